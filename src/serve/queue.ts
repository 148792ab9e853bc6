// Admission of requests to the model: up to `running` at once, then a bounded first-come queue; a request
// that finds the queue full is refused at once (the handler answers 503 with Retry-After), and one whose
// client goes away while waiting leaves the queue. A finishing request hands its place straight to the first
// one waiting, so a newcomer cannot overtake the queue.
import { ApiError } from './errors.js';

interface Waiter { start: (release: () => void) => void; fail: (e: unknown) => void }

export class RequestQueue {
  private active = 0;
  private readonly waiting: Waiter[] = [];

  constructor(readonly running: number, readonly capacity: number) {}

  /** Requests running and waiting now. */
  get load(): { running: number; waiting: number } { return { running: this.active, waiting: this.waiting.length }; }

  /** Resolves with a release function once the request may run; rejects when the queue is full or `signal` aborts. */
  enter(signal: AbortSignal | undefined): Promise<() => void> {
    if (this.active < this.running) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    if (this.waiting.length >= this.capacity) {
      return Promise.reject(new ApiError(503, `the server is busy (${this.active} running, ${this.waiting.length} waiting); retry shortly`,
        'server_error', 'server_busy', null, { 'retry-after': '1' }));
    }
    return new Promise((start, fail) => {
      const w: Waiter = { start, fail };
      this.waiting.push(w);
      signal?.addEventListener('abort', () => {
        const i = this.waiting.indexOf(w);
        if (i >= 0) { this.waiting.splice(i, 1); fail(signal.reason); }
      }, { once: true });
    });
  }

  /** A place's release: it passes to the next waiter, or is freed. Calling it twice does nothing. */
  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.waiting.shift();
      if (next) next.start(this.releaser());
      else this.active--;
    };
  }
}
