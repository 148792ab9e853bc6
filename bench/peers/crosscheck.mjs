#!/usr/bin/env node
// Cross-check with llama.cpp itself: the GGUF files our converter and quantiser write are loaded by
// node-llama-cpp (llama.cpp's CPU backend) and by sparq-wasm, and both continue the same prompts greedily.
// Per file and prompt it reports whether the prompt tokenisations agree and whether the continuations match
// token for token; where they diverge, the first divergence and both engines' top-1/top-2 logit gaps there
// (the same context in both engines, since everything before it matched), to show whether it is a near-tie.
//
// To tell kernel arithmetic apart from a file-format mistake, each quantised file is also expanded to F32
// with our dequantiser (same tensors, values exactly as the blocks decode): both engines agree exactly on F32
// files, so that copy is a reference for what the quantised weights mean. If our blocks were laid out
// differently from ggml's, llama.cpp would read other values than we do and land far from that reference
// while we stay near it; if both engines sit at similar distances, the difference between them is how each
// quantises activations and orders its sums.
//
// Files: stories260K (the llama.cpp-converted F32 original, then our Q8_0 / Q4_0 / Q4_K_M of it) and the HF
// fixtures llama-gqa and llama-mha-tied (our converter to F32, then the same three quantisations).
// llama.cpp runs on 1 thread, greedy (temperature 0, no penalties); `--kv f32` (default) gives it an F32 KV
// cache and no flash attention, as sparq-wasm has by default; `--kv f16` keeps llama.cpp's defaults (F16 KV,
// flash attention auto); `--kv f32,f16` runs both (the main table shows the first).
//
//   (cd bench/peers && npm install) && node tools/build.mjs --no-types
//   node bench/peers/crosscheck.mjs [--tokens 48] [--kv f32,f16] [--models stories260K,llama-gqa,llama-mha-tied]
//                                   [--out bench/results/peers-crosscheck]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus, totalmem } from 'node:os';
import { getLlama, LlamaLogLevel } from 'node-llama-cpp';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const argv = process.argv.slice(2);
const opt = (name, dflt) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : dflt; };
const nTokens = Number(opt('--tokens', '48'));
const kvModes = opt('--kv', 'f32').split(',');
const outBase = opt('--out', join(root, 'bench', 'results', 'peers-crosscheck'));
const work = opt('--work', join(root, 'bench', '.cache', 'peers'));
const shared = join(root, '..', 'shared', 'data');
const TYPES = ['Q8_0', 'Q4_0', 'Q4_K_M'];
const TOP = 16; // log-probabilities are compared over the reference's TOP most likely tokens
const TABLE_HEAD = '| model | weights | prompt | ids | result (tokens compared) | llama.cpp gap (top-2) | sparq gap (top-2) | Δlog p sparq vs llama.cpp | Δlog p vs dequantised F32: sparq / llama.cpp |';

const STORY_PROMPTS = ['Once upon a time', 'Lily wanted to', 'The little dog was', 'One day, Tom went to the park', 'She was very happy because'];
const EMMA_PROMPTS = ['Emma Woodhouse, handsome, clever, and rich', 'Mr. Knightley said', 'It was a', 'She could not help', 'Harriet Smith was'];

const MODELS = [
  { name: 'stories260K', gguf: join(shared, 'stories260K', 'stories260K.gguf'), prompts: STORY_PROMPTS },
  { name: 'llama-gqa', hf: join(root, 'tests', 'fixtures', 'llama-gqa'), prompts: EMMA_PROMPTS },
  { name: 'llama-mha-tied', hf: join(root, 'tests', 'fixtures', 'llama-mha-tied'), prompts: EMMA_PROMPTS },
];

const KV_CONTEXT = {
  f32: { flashAttention: false, experimentalKvCacheKeyType: 'F32', experimentalKvCacheValueType: 'F32' },
  f16: {},
};
const KV_LABEL = {
  f32: 'F32 K and V in both engines, llama.cpp flash attention off',
  f16: 'llama.cpp defaults (F16 K and V, flash attention auto); sparq-wasm F32',
};

const dist = (p) => import(join(root, 'dist', ...p.split('/')));
const { loadModel } = await dist('index.js');
const { convertHFToGGUF } = await dist('convert/index.js');
const { readGGUFHeader } = await dist('formats/gguf.js');
const { ByteReader } = await dist('formats/source.js');
const { ggmlTypeName } = await dist('formats/ggml-types.js');
const { dequantizeRows } = await dist('convert/index.js');

for (const k of kvModes) if (!KV_CONTEXT[k]) throw new Error(`--kv takes f32 and/or f16, got ${k}`);
mkdirSync(work, { recursive: true });
const llama = await getLlama({ gpu: false, build: 'never', maxThreads: 1, logLevel: LlamaLogLevel.error });

const files = [];
const only = opt('--models')?.split(',');
for (const m of MODELS.filter((x) => !only || only.includes(x.name))) {
  if (m.gguf && !existsSync(m.gguf)) { console.error(`skipping ${m.name}: ${m.gguf} absent (needs ../shared/data)`); continue; }
  let f32 = m.gguf;
  if (m.hf) {
    f32 = join(work, `${m.name}-F32.gguf`);
    await convertHFToGGUF(m.hf, f32, 'F32', { warn: (s) => console.error(`convert ${m.name}: ${s}`) });
  }
  files.push({ model: m, type: 'F32', path: f32, tensors: await tensorTypes(f32) });
  for (const type of TYPES) {
    const path = join(work, `${m.name}-${type}.gguf`);
    const deq = join(work, `${m.name}-${type}.dequantised-F32.gguf`);
    execFileSync(process.execPath, [join(root, 'bin', 'sparq.js'), 'quantize', f32, path, '--type', type], { stdio: ['ignore', 'ignore', 'inherit'] });
    await writeDequantised(f32, path, deq);
    files.push({ model: m, type, path, deq, tensors: await tensorTypes(path) });
  }
}

const buildAtStart = sparqBuild();
const rows = [];
const f32FirstStep = new Map(); // model|prompt -> sparq-wasm's first-step log-probabilities on the F32 file
for (const f of files) {
  console.error(`${f.model.name} ${f.type} (${mix(f.tensors)})`);
  const ours = await loadModel(f.path, { threads: 1, contextLength: 256 });
  const ref = f.deq ? await loadModel(f.deq, { threads: 1, contextLength: 256 }) : null;
  const peer = await llama.loadModel({ modelPath: f.path, gpuLayers: 0 });
  for (const kv of kvModes) {
    const ctx = await peer.createContext({ contextSize: 256, batchSize: 256, threads: 1, ...KV_CONTEXT[kv] });
    const seq = ctx.getSequence();
    for (const text of f.model.prompts) {
      const row = await compare(ours, peer, seq, text);
      const refLP = ref ? logSoftmax(lastRow(ref, row.promptIds)) : null;
      if (f.type === 'F32') f32FirstStep.set(`${f.model.name}|${text}`, row.firstStep.sparq);
      const f32LP = f32FirstStep.get(`${f.model.name}|${text}`);
      rows.push({
        model: f.model.name, type: f.type, kv, prompt: text, ...row,
        firstStep: {
          sparqVsLlamaCpp: maxDelta(row.firstStep.sparq, row.firstStep.peer, row.firstStep.peer),
          sparqVsDequantisedF32: refLP && maxDelta(row.firstStep.sparq, refLP, refLP),
          llamaCppVsDequantisedF32: refLP && maxDelta(row.firstStep.peer, refLP, refLP),
          // weight rounding alone (F32 arithmetic in both): how sensitive the model is to perturbations of this size
          dequantisedF32VsF32: refLP && f32LP && maxDelta(refLP, f32LP, f32LP),
        },
      });
      const last = rows[rows.length - 1];
      console.error(`  [kv ${kv}] ${JSON.stringify(text)}: ${last.match ? 'match' : `diverges at ${last.divergence.pos}`} (${last.compared} tokens)`);
    }
    await ctx.dispose();
  }
  await peer.dispose();
  ours.dispose();
  ref?.dispose();
}

const result = {
  date: new Date().toISOString(),
  machine: `${cpus()[0].model}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
  node: process.version,
  peer: `node-llama-cpp ${peerVersion()} (prebuilt binaries, llama.cpp label ${llama.llamaCppRelease.release}), CPU, 1 thread, temperature 0, no penalties`,
  peerSystemInfo: llama.systemInfo,
  sparqBuild: buildAtStart,
  sparqBuildChangedDuringRun: sparqBuild().sha256 !== buildAtStart.sha256,
  kvCache: Object.fromEntries(kvModes.map((k) => [k, KV_LABEL[k]])),
  tokens: nTokens,
  files: files.map((f) => ({ model: f.model.name, type: f.type, tensors: f.tensors })),
  rows: rows.map(({ firstStep, ...x }) => ({ ...x, firstStepMaxAbsLogProbDelta: firstStep })),
};
writeFileSync(`${outBase}.json`, compactJSON(result));
writeFileSync(`${outBase}.md`, markdown(result));
console.log(markdown(result));

/** Greedy continuations of `text` in both engines from the same prompt ids, and where they part. */
async function compare(ours, peer, seq, text) {
  const oursIds = ours.tokenize(text);
  const peerText = peer.tokenize(text);
  const peerIds = peer.tokens.shouldPrependBosToken ? [peer.tokens.bos, ...peerText] : peerText;
  const prompt = oursIds; // both engines continue the same ids, so a tokeniser difference cannot hide a kernel one
  const isStop = (t) => ours.tokenizer.stopIds.has(t) || peer.isEogToken(t);
  const vocab = ours.info.config.vocabSize;

  const gen = ours.generate(prompt, { temperature: 0, maxTokens: nTokens });
  for await (const _ of gen) { /* text chunks are not needed */ }
  const r = await gen.result;
  const a = [...r.tokens];
  if (r.stats.stopReason === 'eos') a.push('EOS');

  await seq.clearHistory();
  const b = [];
  const steps = []; // llama.cpp's top-2 and gap at each step
  let peerFirst;
  for await (const x of seq.evaluateWithMetadata(prompt, { probabilities: true }, { temperature: 0, yieldEogToken: true })) {
    const it = x.probabilities.entries(); // sorted by logit, highest first
    const [t1, p1] = it.next().value, [t2, p2] = it.next().value;
    steps.push({ top: [t1, t2], gap: Math.log(p1 / p2) }); // = the logit gap: the greedy sampler leaves logits as they are
    if (!peerFirst) {
      peerFirst = new Float64Array(vocab).fill(-Infinity);
      for (const [t, p] of x.probabilities) peerFirst[t] = Math.log(p);
    }
    if (isStop(x.token)) { b.push('EOS'); break; }
    b.push(x.token);
    if (b.length >= nTokens) break;
  }

  const n = Math.min(a.length, b.length);
  let pos = 0;
  while (pos < n && a[pos] === b[pos]) pos++;
  const common = {
    promptIds: prompt, peerPromptIds: peerIds, idsMatch: same(oursIds, peerIds), sparq: a, llamaCpp: b,
    firstStep: { sparq: logSoftmax(lastRow(ours, prompt)), peer: peerFirst },
    llamaCppMinGapBefore: pos > 0 ? Math.min(...steps.slice(0, pos).map((s) => s.gap)) : null,
  };
  if (pos === n && a.length === b.length) return { ...common, match: true, compared: n };
  const mine = top2(lastRow(ours, [...prompt, ...a.slice(0, pos)]));
  return {
    ...common, match: false, compared: pos + 1,
    divergence: { pos, sparq: a[pos] ?? 'end', llamaCpp: b[pos] ?? 'end', llamaCppTop2: steps[pos]?.top, llamaCppGap: steps[pos]?.gap, sparqTop2: mine.top, sparqGap: mine.gap },
  };
}

/** Logits of the next token after `ids`, from a fresh cache. */
function lastRow(model, ids) {
  const v = model.info.config.vocabSize;
  const l = model.logits(ids);
  return l.subarray(l.length - v);
}

function top2(row) {
  let i1 = 0, i2 = -1;
  for (let i = 1; i < row.length; i++) {
    if (row[i] > row[i1]) { i2 = i1; i1 = i; } else if (i2 < 0 || row[i] > row[i2]) i2 = i;
  }
  return { top: [i1, i2], gap: row[i1] - row[i2] };
}

function logSoftmax(row) {
  let m = -Infinity, s = 0;
  for (const v of row) m = Math.max(m, v);
  for (const v of row) s += Math.exp(v - m);
  const lse = m + Math.log(s);
  return Float64Array.from(row, (v) => v - lse);
}

/** Largest |x - y| over the TOP tokens most likely under `by`. */
function maxDelta(x, y, by) {
  const order = [...by.keys()].sort((i, j) => by[j] - by[i]).slice(0, TOP);
  return Math.max(...order.map((i) => Math.abs(x[i] - y[i])));
}

/** JSON with the header indented and one line per file and per row. */
function compactJSON(r) {
  const { files: fs, rows: rs, ...head } = r;
  const list = (xs) => `[\n${xs.map((x) => `    ${JSON.stringify(x)}`).join(',\n')}\n  ]`;
  return `${JSON.stringify(head, null, 2).replace(/\n}$/, '')},\n  "files": ${list(fs)},\n  "rows": ${list(rs)}\n}\n`;
}

function same(x, y) { return x.length === y.length && x.every((v, i) => v === y[i]); }

async function header(path) {
  const bytes = readFileSync(path);
  return { bytes, h: await readGGUFHeader(new ByteReader(bytes, path, bytes.length)) };
}

/** name -> type name of every tensor in a GGUF file. */
async function tensorTypes(path) {
  const { h } = await header(path);
  return Object.fromEntries(h.tensors.map((t) => [t.name, ggmlTypeName(t.type)]));
}

/**
 * The F32 file `f32` with every tensor replaced by the values the same tensor of `quant` decodes to. Only for
 * all-F32 sources (true of every file here): the copy keeps the source's header and offsets byte for byte.
 */
async function writeDequantised(f32, quant, out) {
  const src = await header(f32), q = await header(quant);
  const bytes = Buffer.from(src.bytes);
  for (const t of q.h.tensors) {
    const s = src.h.tensors.find((x) => x.name === t.name);
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (!s || ggmlTypeName(s.type) !== 'F32' || s.byteSize !== n * 4) throw new Error(`${f32}: tensor ${t.name} is not F32 with ${n} values`);
    const at = q.h.dataOffset + t.offset;
    const v = dequantizeRows(t.type, q.bytes.subarray(at, at + t.byteSize), n);
    bytes.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), src.h.dataOffset + s.offset);
  }
  writeFileSync(out, bytes);
}

/** "Q5_0 x29, F32 x11, ...". */
function mix(tensors) {
  const c = new Map();
  for (const t of Object.values(tensors)) c.set(t, (c.get(t) ?? 0) + 1);
  return [...c].sort((a, b) => b[1] - a[1]).map(([t, n]) => `${t} x${n}`).join(', ');
}

/** Per tensor role (blk.N. dropped), its types with the layers that have each: "attn_v Q5_0 (0,1,3) Q8_0 (2,4)". */
function roles(tensors) {
  const by = new Map();
  for (const [name, type] of Object.entries(tensors)) {
    const m = /^blk\.(\d+)\.(.*)$/.exec(name);
    const role = m ? m[2] : name;
    const e = by.get(role) ?? new Map();
    e.set(type, [...(e.get(type) ?? []), ...(m ? [Number(m[1])] : [])]);
    by.set(role, e);
  }
  return [...by].filter(([r]) => !r.endsWith('norm.weight'))
    .map(([r, e]) => `${r.replace(/\.weight$/, '')} ${[...e].map(([t, l]) => (e.size > 1 && l.length ? `${t} (${l.join(',')})` : t)).join(' ')}`).join('; ');
}

/** Which kernel build ran (dist/ is rebuilt by others while this runs). */
function sparqBuild() {
  const path = join(root, 'dist', 'sparq.wasm');
  return { sha256: createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 16), mtime: statSync(path).mtime.toISOString() };
}

function peerVersion() {
  return JSON.parse(readFileSync(join(here, 'node_modules', 'node-llama-cpp', 'package.json'), 'utf8')).version;
}

/**
 * One line per file and KV setting. At a divergence the engines rank the same two tokens in opposite orders, so
 * their logit differences for that pair differ by the sum of the two gaps. Moving each token's log-probability by
 * at most D changes a pair's difference by at most 2D, so a divergence counts as a near-tie when that sum is no
 * more than 2D, with D the largest first-step log-probability difference between the engines on the same file
 * (their ordinary disagreement, measured where the continuations have not yet parted).
 */
function summaryLines(r) {
  const f = (x, d = 3) => (x == null ? '-' : x.toFixed(d));
  const mean = (a) => a.reduce((s, v) => s + v, 0) / a.length;
  const lines = ['## Summary per file', '',
    '| file | KV | prompts matching token for token | tokenisations equal | largest sparq gap + llama.cpp gap at a divergence | 2 x largest first-step Δlog p sparq vs llama.cpp | every divergence a near-tie | mean first-step Δlog p vs dequantised F32: sparq / llama.cpp | mean first-step Δlog p, dequantised F32 vs F32 |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |'];
  const groups = new Map();
  for (const x of r.rows) {
    const k = `${x.model} ${x.type}|${x.kv}`;
    groups.set(k, [...(groups.get(k) ?? []), x]);
  }
  for (const [k, xs] of groups) {
    const [file, kv] = k.split('|');
    const gaps = xs.filter((x) => !x.match).map((x) => (x.divergence.llamaCppGap ?? 0) + x.divergence.sparqGap);
    const s = xs.map((x) => x.firstStepMaxAbsLogProbDelta);
    const noise = 2 * Math.max(...s.map((v) => v.sparqVsLlamaCpp));
    const maxGap = gaps.length ? Math.max(...gaps) : null;
    lines.push(`| ${file} | ${kv} | ${xs.filter((x) => x.match).length} / ${xs.length} | ${xs.filter((x) => x.idsMatch).length} / ${xs.length} | ${f(maxGap)} | ${f(noise)} | `
      + `${maxGap == null ? '-' : maxGap <= noise ? 'yes' : 'NO'} | `
      + `${s[0].sparqVsDequantisedF32 == null ? '-' : `${f(mean(s.map((v) => v.sparqVsDequantisedF32)))} / ${f(mean(s.map((v) => v.llamaCppVsDequantisedF32)))}`} | `
      + `${s[0].dequantisedF32VsF32 == null ? '-' : f(mean(s.map((v) => v.dequantisedF32VsF32)))} |`);
  }
  lines.push('', 'The last column is the effect of the weight rounding alone, both files run in F32 arithmetic: how strongly a',
    'perturbation of that size moves this model\'s outputs. Where it is large, the engine-to-engine differences (activation',
    'quantisation, summation order) are amplified in proportion, and so are the gaps at which continuations part.');
  return lines;
}

function markdown(r) {
  const f = (x, d = 3) => (x == null ? '-' : Number.isFinite(x) ? x.toFixed(d) : 'inf');
  const main = r.rows.filter((x) => x.kv === kvModes[0]);
  const lines = [
    '# Cross-check with llama.cpp (node-llama-cpp)', '',
    `\`node bench/peers/crosscheck.mjs --tokens ${r.tokens} --kv ${kvModes.join(',')}\`, ${r.date}, ${r.machine}, Node ${r.node}.`,
    `Peer: ${r.peer}. sparq-wasm: dist/ build (sparq.wasm sha256 ${r.sparqBuild.sha256}…, built ${r.sparqBuild.mtime}${r.sparqBuildChangedDuringRun ? '; REBUILT DURING THE RUN' : ''}), loadModel with threads 1, temperature 0, F32 KV cache.`,
    `Main table KV cache: ${r.kvCache[kvModes[0]]}.`, '',
    'Both engines continue the same prompt ids (sparq-wasm\'s tokenisation, BOS added as the file\'s metadata says) greedily',
    `for up to ${r.tokens} tokens; EOS ends a continuation and counts as a token. "ids": whether llama.cpp's own tokenisation`,
    '(BOS prepended when its `shouldPrependBosToken` says so) gives the same prompt ids. At a divergence both engines',
    'saw the same context; the gaps are top-1 minus top-2 logit there (llama.cpp\'s from its probabilities, ln(p1/p2)),',
    'with the two token ids in that engine\'s order. The last three columns compare log-probabilities at the first',
    `generated position (largest |difference| over the reference's ${TOP} most likely tokens): sparq-wasm vs llama.cpp on the`,
    'same file, and each engine on the quantised file vs both engines on its dequantised F32 copy (see the script).', '',
  ];
  lines.push(...summaryLines(r), '', `## Per prompt (KV: ${kvModes[0]})`, '', TABLE_HEAD, '| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const x of main) {
    const d = x.divergence, s = x.firstStepMaxAbsLogProbDelta;
    const res = x.match ? `match (${x.compared})` : `diverges at ${d.pos} (sparq ${d.sparq}, llama.cpp ${d.llamaCpp})`;
    lines.push(`| ${x.model} | ${x.type} | ${x.prompt} | ${x.idsMatch ? 'same' : 'DIFFER'} | ${res} | `
      + `${d ? `${f(d.llamaCppGap)} (${d.llamaCppTop2?.join(', ')})` : '-'} | ${d ? `${f(d.sparqGap)} (${d.sparqTop2.join(', ')})` : '-'} | `
      + `${f(s.sparqVsLlamaCpp)} | ${s.sparqVsDequantisedF32 == null ? '-' : `${f(s.sparqVsDequantisedF32)} / ${f(s.llamaCppVsDequantisedF32)}`} |`);
  }
  lines.push('', '## Tensor types per file (written by our quantiser; layers in parentheses)', '');
  for (const x of r.files) lines.push(`- ${x.model} ${x.type}: ${mix(x.tensors)}. ${roles(x.tensors)}.`);
  return lines.join('\n') + '\n';
}
