// A (Request) => Promise<Response> handler served by node:http: each request becomes a fetch Request whose
// signal aborts when the client goes away, and the Response body is written with backpressure.
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { Readable } from 'node:stream';
import { once } from 'node:events';
import type { Handler } from './handler.js';

export interface Listening {
  server: Server;
  /** http://host:port/ as bound (port 0 picks a free one). */
  url: string;
  close(): Promise<void>;
}

export async function listen(handler: Handler, host: string, port: number): Promise<Listening> {
  const server = createServer((req, res) => { void serveOne(handler, host, req, res); });
  server.listen(port, host);
  await once(server, 'listening');
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    server,
    url: `http://${shown}:${bound}/`,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

async function serveOne(handler: Handler, host: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const gone = new AbortController();
  res.on('close', () => { if (!res.writableFinished) gone.abort(); });
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  const request = new Request(new URL(req.url ?? '/', `http://${req.headers.host ?? host}`), {
    method: req.method,
    headers: Object.entries(req.headers).flatMap(([k, v]) => (v === undefined ? [] : Array.isArray(v) ? v.map((x): [string, string] => [k, x]) : [[k, v]])),
    body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : undefined,
    signal: gone.signal,
    ...(hasBody ? { duplex: 'half' } : {}),
  } as RequestInit);
  let response: Response;
  try {
    response = await handler(request);
  } catch (e) {
    response = new Response(JSON.stringify({ error: { message: String((e as Error)?.message ?? e), type: 'server_error', param: null, code: null } }),
      { status: 500, headers: { 'content-type': 'application/json' } });
  }
  res.writeHead(response.status, Object.fromEntries(response.headers));
  if (!response.body) { res.end(); return; }
  const reader = response.body.getReader();
  try {
    for (;;) {
      if (gone.signal.aborted) break;
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
    }
    res.end();
  } catch {
    res.destroy();
  } finally {
    if (gone.signal.aborted) await reader.cancel().catch(() => {});
  }
}
