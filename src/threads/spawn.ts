// Starting a thread and talking to the thread that started this one: Node's worker_threads, or Web Workers
// (browsers, Deno) where there is no Node. Only start-up messages go through here; jobs go through memory.

/** A started thread, seen from the thread that started it. */
export interface ThreadHandle {
  onMessage(cb: (msg: unknown) => void): void;
  /** The thread ended or failed: an uncaught error (message) or an exit (its code). */
  onEnd(cb: (why: string) => void): void;
  terminate(): void;
  /** Do not keep the process alive for this thread (Node). */
  unref(): void;
}

/** The thread that started this one. */
export interface Parent {
  data: unknown;
  post(msg: unknown): void;
  /** Ends this thread now. */
  exit(code: number): void;
}

const isNode = (): boolean => typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/** Why threads cannot be started here, or undefined when they can. */
export async function spawnProblem(): Promise<string | undefined> {
  if (isNode()) {
    try { await import('node:worker_threads'); } catch { return 'node:worker_threads is not available'; }
    return undefined;
  }
  return typeof Worker === 'function' ? undefined : 'this platform has no Worker';
}

/** Starts the module script at `url` with `data` (which may hold a WebAssembly.Module and a shared memory). */
export async function spawn(url: URL, data: unknown): Promise<ThreadHandle> {
  if (isNode()) {
    const { Worker } = await import('node:worker_threads');
    const w = new Worker(url, { workerData: data });
    return {
      onMessage: (cb) => { w.on('message', cb); },
      onEnd: (cb) => {
        w.on('error', (e) => cb(`uncaught ${e?.message ?? String(e)}`));
        w.on('exit', (code) => cb(`exited with code ${code}`));
      },
      terminate: () => { void w.terminate(); },
      unref: () => { w.unref(); },
    };
  }
  const w = new Worker(url, { type: 'module' });
  w.postMessage(data);
  return {
    onMessage: (cb) => { w.addEventListener('message', (e) => cb(e.data)); },
    // Web Workers report uncaught errors; a terminated worker sends nothing.
    onEnd: (cb) => { w.addEventListener('error', (e) => cb(`uncaught ${e.message}`)); },
    terminate: () => { w.terminate(); },
    unref: () => {},
  };
}

/** This thread's parent: workerData in Node, the first message elsewhere. */
export async function parent(): Promise<Parent> {
  if (isNode()) {
    const wt = await import('node:worker_threads');
    const port = wt.parentPort;
    if (!port) throw new Error('not started as a worker thread');
    return { data: wt.workerData, post: (m) => port.postMessage(m), exit: (code) => process.exit(code) };
  }
  const scope = globalThis as unknown as {
    addEventListener(t: 'message', cb: (e: MessageEvent) => void, o?: { once: boolean }): void;
    postMessage(m: unknown): void;
    close(): void;
  };
  const data = await new Promise((resolve) => scope.addEventListener('message', (e) => resolve(e.data), { once: true }));
  return {
    data,
    post: (m) => scope.postMessage(m),
    exit: () => { scope.close(); throw new Error('worker closed'); },
  };
}
