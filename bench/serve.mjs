#!/usr/bin/env node
// The OpenAI-compatible server against the library, in one run, and under load.
// 1. Overhead: the same streamed completion (a ~120-token prompt, greedy, --max-tokens tokens) through HTTP
//    to a `sparq serve` child process and through model.generate in this process, same model file, same
//    thread count; the two alternate for --rounds rounds (each round a new prompt, so neither side finds it
//    cached) and the table gives the median of the per-round ratios of time to first token and decode tok/s.
// 2. Load: twice, --requests requests from --clients concurrent clients (half streamed; one in ten cut off
//    after its first chunk; max_tokens 8-48), counting errors, the p50/p99 latency of completed requests, and
//    the server's resident memory before and after each run (growth in the second run would be a leak).
// The server is a child process running what `sparq serve` runs (createOpenAIHandler on node:http), started
// with --expose-gc and one extra route, GET /__memory, that collects garbage and reports its memory.
//   node bench/serve.mjs [--model models/default.gguf] [--threads 1] [--rounds 5] [--max-tokens 64]
//                        [--requests 200] [--clients 8] [--out bench/results/serve]
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: join(root, 'models', 'default.gguf') }, threads: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '5' }, 'max-tokens': { type: 'string', default: '64' },
    requests: { type: 'string', default: '200' }, clients: { type: 'string', default: '8' }, out: { type: 'string' },
    'server-child': { type: 'boolean' },
  },
});
const threads = Number(args.threads), maxTokens = Number(args['max-tokens']);
const template = join(root, 'tests', 'fixtures', 'chat-templates', 'chatml.jinja');
const prompt = (i) => `Story number ${i}. ${STORY.repeat(4)}`;
const STORY = 'The lighthouse stood at the end of a long stone pier, and every evening the keeper climbed its hundred steps to light the lamp. ';

const { loadModel, createOpenAIHandler } = await import(join(root, 'dist', 'index.js'));
if (args['server-child']) await serverChild();
const server = await startServer();
const library = await loadModel(args.model, { threads, contextLength: 1024 });
try {
  const overhead = await measureOverhead();
  const start = await memory();
  const loads = [];
  if (Number(args.requests) > 0) for (let i = 0; i < 2; i++) loads.push(await loadRun()); // the second run shows whether memory keeps growing
  report({ overhead, start, load: loads });
} finally {
  library.dispose();
  server.child.kill('SIGTERM');
}

/** The server process: the handler `sparq serve` runs, plus GET /__memory (after a full garbage collection). */
async function serverChild() {
  const { listen } = await import(join(root, 'dist', 'serve', 'node-http.js'));
  const model = await loadModel(args.model, { threads, contextLength: 1024 });
  const handler = createOpenAIHandler(model, { chatTemplate: readFileSync(template, 'utf8'), queueSize: 64 });
  const server = await listen(async (req) => {
    if (new URL(req.url).pathname !== '/__memory') return handler(req);
    globalThis.gc();
    return Response.json(process.memoryUsage());
  }, '127.0.0.1', 0);
  process.stdout.write(`listening on ${server.url}\n`);
  await new Promise((resolve) => process.once('SIGTERM', resolve));
  await server.close();
  model.dispose();
  process.exit(0);
}

async function startServer() {
  const child = spawn(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--server-child', '--model', args.model, '--threads', String(threads)],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => { out += d; const m = /listening on (\S+)/.exec(out); if (m) resolve(m[1]); });
    child.once('exit', (c) => reject(new Error(`sparq serve exited with ${c}`)));
  });
  return { child, url };
}

/** Time to first token and decode tok/s of one streamed completion through HTTP. */
async function viaHttp(i) {
  const t0 = performance.now();
  const res = await fetch(new URL('v1/completions', server.url), {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: prompt(i), max_tokens: maxTokens, temperature: 0, stream: true, stream_options: { include_usage: true } }),
  });
  const decoder = new TextDecoder();
  let first, last, usage, buf = '';
  for await (const bytes of res.body) {
    buf += decoder.decode(bytes, { stream: true });
    let cut;
    while ((cut = buf.indexOf('\n\n')) >= 0) {
      const data = buf.slice(6, cut);
      buf = buf.slice(cut + 2);
      if (data === '[DONE]') continue;
      const chunk = JSON.parse(data);
      if (chunk.usage) usage = chunk.usage;
      if (chunk.choices[0]?.text) { last = performance.now(); first ??= last; }
    }
  }
  return { ttftMs: first - t0, decodeTokPerS: (usage.completion_tokens - 1) / ((last - first) / 1000), tokens: usage.completion_tokens };
}

/** The same through the library in this process. */
async function viaLibrary(i) {
  const t0 = performance.now();
  const gen = library.generate(prompt(i), { maxTokens, temperature: 0 });
  let first, last;
  for await (const piece of gen) if (piece) { last = performance.now(); first ??= last; }
  const { stats } = await gen.result;
  return { ttftMs: first - t0, decodeTokPerS: (stats.generatedTokens - 1) / ((last - first) / 1000), tokens: stats.generatedTokens };
}

async function measureOverhead() {
  await viaHttp(-1); await viaLibrary(-2); // warm both
  const rounds = [];
  for (let r = 0; r < Number(args.rounds); r++) {
    let http, l;
    if (r % 2 === 0) { http = await viaHttp(r); l = await viaLibrary(r); } else { l = await viaLibrary(r); http = await viaHttp(r); }
    rounds.push({ http, library: l, ttftRatio: http.ttftMs / l.ttftMs, decodeRatio: http.decodeTokPerS / l.decodeTokPerS });
    console.error(`round ${r + 1}: TTFT http ${http.ttftMs.toFixed(1)} ms / library ${l.ttftMs.toFixed(1)} ms; decode ${http.decodeTokPerS.toFixed(1)} / ${l.decodeTokPerS.toFixed(1)} tok/s`);
  }
  return {
    rounds, ttftRatio: median(rounds.map((x) => x.ttftRatio)), decodeRatio: median(rounds.map((x) => x.decodeRatio)),
    httpTtftMs: median(rounds.map((x) => x.http.ttftMs)), libraryTtftMs: median(rounds.map((x) => x.library.ttftMs)),
    httpDecode: median(rounds.map((x) => x.http.decodeTokPerS)), libraryDecode: median(rounds.map((x) => x.library.decodeTokPerS)),
  };
}

/** The server's resident memory and its JS heap after a full garbage collection. */
async function memory() {
  const m = await (await fetch(new URL('__memory', server.url))).json();
  return { rss: m.rss, heapUsed: m.heapUsed };
}

async function loadRun() {
  const total = Number(args.requests), clients = Number(args.clients);
  const before = await memory();
  let next = 0, errors = 0, aborted = 0;
  const latencies = [], failures = [];
  async function client() {
    while (next < total) {
      const i = next++;
      const stream = i % 2 === 0, cut = i % 10 === 3;
      const body = { messages: [{ role: 'user', content: `Request ${i}: ${STORY}` }], max_tokens: 8 + (i * 7) % 41, temperature: 0.7, seed: i, stream };
      const ac = new AbortController();
      const t0 = performance.now();
      try {
        const res = await fetch(new URL('v1/chat/completions', server.url), {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: ac.signal,
        });
        if (!res.ok) { errors++; failures.push(`${res.status} ${await res.text()}`); continue; }
        if (cut) {
          const reader = res.body.getReader();
          await reader.read();
          ac.abort();
          aborted++;
          continue;
        }
        const text = await res.text();
        if (stream ? !text.includes('data: [DONE]') : !JSON.parse(text).choices) { errors++; failures.push(text.slice(0, 200)); continue; }
        latencies.push(performance.now() - t0);
      } catch (e) {
        if (!(cut && e.name === 'AbortError')) { errors++; failures.push(String(e)); }
      }
    }
  }
  const t0 = performance.now();
  await Promise.all(Array.from({ length: clients }, client));
  const seconds = (performance.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 500));
  latencies.sort((a, b) => a - b);
  return {
    requests: total, clients, errors, aborted, completed: latencies.length, seconds, failures: failures.slice(0, 5),
    p50Ms: latencies[Math.floor(0.5 * (latencies.length - 1))], p99Ms: latencies[Math.floor(0.99 * (latencies.length - 1))],
    before, after: await memory(),
  };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function report(result) {
  const { overhead: o, load: loads, start } = result;
  const l = loads[0] ?? { requests: 0, clients: Number(args.clients) };
  const meta = { date: new Date().toISOString(), cpu: cpus()[0]?.model, cores: cpus().length, loadAvg: loadavg()[0], node: process.version, threads, maxTokens, model: args.model.replace(root + '/', '') };
  const pct = (r) => `${((r - 1) * 100).toFixed(1)}%`;
  const mib = (b) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  const md = [
    '# OpenAI-compatible server: overhead against the library, and a load run',
    '',
    `\`node bench/serve.mjs --threads ${threads} --rounds ${args.rounds} --max-tokens ${maxTokens} --requests ${args.requests} --clients ${args.clients}\`, ` +
      `${meta.date}, ${meta.cpu}, ${meta.cores} cores, load average ${meta.loadAvg.toFixed(2)} at the end, Node ${meta.node}.`,
    `Model ${meta.model}; both sides on ${threads} thread(s); a streamed completion of a ~120-token prompt, greedy, ${maxTokens} tokens. ` +
      'The server is a child process running what `sparq serve` runs; the library runs in the benchmark process; they alternate, and each ratio is the median of the per-round ratios.',
    '',
    '| measure | through HTTP (median) | library (median) | median of paired ratios | overhead | goal |',
    '| --- | --- | --- | --- | --- | --- |',
    `| time to first token | ${o.httpTtftMs.toFixed(1)} ms | ${o.libraryTtftMs.toFixed(1)} ms | ${o.ttftRatio.toFixed(3)} | ${pct(o.ttftRatio)} | < 3% |`,
    `| decode tok/s | ${o.httpDecode.toFixed(1)} | ${o.libraryDecode.toFixed(1)} | ${o.decodeRatio.toFixed(3)} | ${pct(1 / o.decodeRatio)} | < 3% |`,
    '',
    ...(loads.length === 0 ? [] : [`Load, twice: ${l.requests} chat requests from ${l.clients} concurrent clients (half streamed, one in ten cut off after its first chunk, ` +
      `max_tokens 8-48, temperature 0.7; one generation at a time, the rest queued). Memory is read after a full garbage collection in the server; after the overhead runs: RSS ${mib(start.rss)}, JS heap ${mib(start.heapUsed)}.`,
    '',
    '| run | seconds | errors | completed | cut off | p50 latency | p99 latency | RSS before / after | JS heap before / after |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...loads.map((x, i) => `| ${i + 1} | ${x.seconds.toFixed(1)} | ${x.errors} | ${x.completed} | ${x.aborted} | ${(x.p50Ms / 1000).toFixed(2)} s | ${(x.p99Ms / 1000).toFixed(2)} s | ` +
      `${mib(x.before.rss)} / ${mib(x.after.rss)} | ${mib(x.before.heapUsed)} / ${mib(x.after.heapUsed)} |`),
    '',
    'Goals: 0 errors; no memory growth beyond noise from one run to the next.',
    '']),
  ].join('\n');
  process.stdout.write(md);
  if (args.out) {
    writeFileSync(`${args.out}.json`, JSON.stringify({ meta, ...result }, null, 1));
    writeFileSync(`${args.out}.md`, md);
  }
}
