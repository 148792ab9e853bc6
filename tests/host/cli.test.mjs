// The sparq command run as a child process: help, info on real and bad files, generate end to end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/sparq.js', import.meta.url));
const dataDir = fileURLToPath(new URL('../../../shared/data/stories260K/', import.meta.url));
const gguf = dataDir + 'stories260K.gguf';
const noData = existsSync(gguf) ? false : 'needs ../shared/data/stories260K (absent)';

// Generation needs the loader and everything it imports.
let noLoader = false;
try {
  await import('../../dist/engine/load.js');
} catch (e) {
  noLoader = `dist/engine/load.js cannot be imported yet (${e.message.split('\n')[0]})`;
}
const noGenerate = noData || noLoader;

function sparq(...args) {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { timeout: 60000 }, (error, stdout, stderr) => {
      resolve({ code: error ? error.code : 0, stdout, stderr });
    });
  });
}

/** A one-line typed error: exit 1, "error: ..." and no stack trace. */
function assertUserError(r, pattern) {
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^error: /);
  assert.match(r.stderr, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
}

test('--help lists the commands', async () => {
  const r = await sparq('--help');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /generate \[options\] \[PROMPT\]/);
  assert.match(r.stdout, /info \[options\] <FILE>/);
});

test('generate --help lists the sampling and attention options', async () => {
  const r = await sparq('generate', '--help');
  assert.equal(r.code, 0);
  for (const o of ['--model', '--max-tokens', '--temperature', '--top-k', '--top-p', '--min-p', '--repeat-penalty', '--seed',
    '--stop', '--context', '--attention', '--sparq-ratio', '--sparq-r', '--sparq-k']) assert.ok(r.stdout.includes(o), o);
});

test('bad option values and unknown options exit 1', async () => {
  for (const args of [['--top-p', '1.5'], ['--temperature', '-1'], ['--sparq-ratio', '3/2'], ['--attention', 'fast'], ['--bogus']]) {
    const r = await sparq('generate', ...args, 'hi');
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.stderr, /error: /, args.join(' '));
  }
});

test('info prints the metadata, the 48-tensor table and a memory estimate', { skip: noData }, async () => {
  const r = await sparq('info', gguf);
  assert.equal(r.code, 0, r.stderr);
  const out = r.stdout;
  for (const [k, v] of [['architecture', 'llama'], ['context length', '2048'], ['embedding size', '64'], ['layers', '5'],
    ['heads', '8'], ['KV heads', '4'], ['head dim', '8'], ['vocab', '512']]) {
    assert.match(out, new RegExp(`^  ${k} +${v}$`, 'm'), k);
  }
  assert.match(out, /tokenizer\.ggml\.tokens +\[512 items\] "<unk>", "<s>", "<\/s>"/);
  // one table row per tensor: name, type, shape, bytes
  const rows = out.split('\n').filter((l) => /^  (token_embd|output|blk\.)\S* +F32 +[\d x]+ +\d+$/.test(l));
  assert.equal(rows.length, 48);
  assert.match(out, /^  token_embd\.weight +F32 +64 x 512 +131072$/m);
  assert.match(out, /^  blk\.4\.ffn_down\.weight +F32 +172 x 64 +44032$/m);
  assert.match(out, /^total: 48 tensors, \d+ bytes/m);
  assert.match(out, /KV cache, dense +\d+ bytes\/token x 2048/);
  assert.match(out, /KV cache, sparq +\d+ bytes\/token x 2048/);
});

test('info on a missing file exits 1 naming the file', async () => {
  assertUserError(await sparq('info', 'no-such-model.gguf'), /no-such-model\.gguf/);
});

test('info on a file that is not GGUF exits 1 with a clear message', async () => {
  assertUserError(await sparq('info', fileURLToPath(new URL('../../package.json', import.meta.url))), /package\.json.*GGUF/);
});

test('generate with a missing model file exits 1', async () => {
  assertUserError(await sparq('generate', '--model', 'no-such-model.gguf', 'hi'), /no-such-model\.gguf/);
});

test('generate streams greedy text that matches the reference, stats on stderr', { skip: noGenerate }, async () => {
  const ref = JSON.parse(readFileSync(dataDir + 'reference.json', 'utf8')).greedy_with_prompt;
  const r = await sparq('generate', '--model', gguf, '--temperature', '0', '--max-tokens', '20', ref.prompt);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stdout.length > 0 && ref.text.startsWith(ref.prompt + r.stdout), `stdout ${JSON.stringify(r.stdout)}`);
  assert.match(r.stderr, /load [\d.]+ s \([\d.]+ GB\/s\) \| prompt 5 tokens, generated 20 \(maxTokens\) \| prefill [\d.]+ tok\/s \| decode [\d.]+ tok\/s/);
});

test('generate stops before a --stop string and reports it', { skip: noGenerate }, async () => {
  const r = await sparq('generate', '-m', gguf, '-t', '0', '-n', '60', '--stop', 'Lily', 'Once upon a time');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, ', there was a little girl named ');
  assert.match(r.stderr, /\(stop\)/);
});

test('generate with the same seed prints the same text', { skip: noGenerate }, async () => {
  const args = ['generate', '-m', gguf, '-t', '1', '-s', '7', '-n', '30', 'Once'];
  const [a, b] = [await sparq(...args), await sparq(...args)];
  assert.equal(a.code, 0, a.stderr);
  assert.equal(a.stdout, b.stdout);
});

/** Runs sparq with `input` on stdin (not a terminal). */
function sparqWithInput(input, ...args) {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [bin, ...args], { timeout: 120000 }, (error, stdout, stderr) => {
      resolve({ code: error ? error.code : 0, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

test('chat with stdin not a terminal: one reply per input line, the same replies as a library session', async () => {
  const template = fileURLToPath(new URL('../fixtures/chat-templates/chatml.jinja', import.meta.url));
  const model = fileURLToPath(new URL('../../models/default.gguf', import.meta.url));
  const document = 'The lighthouse keeper, Mara Quill, kept a red notebook. Every night she wrote the number 4721 on its first page.';
  const lines = [`${document} What number did she write?`, 'Who kept the notebook?'];
  const r = await sparqWithInput(lines.join('\n') + '\n', 'chat', '-m', model, '--chat-template-file', template, '--system', 'Answer briefly.',
    '-t', '0', '-n', '12', '--threads', '1', '-c', '512');
  assert.equal(r.code, 0, r.stderr);
  const { loadModel } = await import('../../dist/index.js');
  const lib = await loadModel(model, { threads: 1, contextLength: 512 });
  try {
    const session = lib.createSession({ system: 'Answer briefly.', chatTemplate: readFileSync(template, 'utf8') });
    let want = '';
    for (const line of lines) {
      const gen = session.send(line, { temperature: 0, maxTokens: 12 });
      for await (const piece of gen) want += piece;
      want += '\n';
    }
    assert.equal(r.stdout, want);
  } finally {
    lib.dispose();
  }
});

test('chat on the embedded model, offline, with its own template: a question over a pasted document is answered from it', async () => {
  const model = fileURLToPath(new URL('../../models/default.gguf', import.meta.url));
  // One input line: a document of about 300 tokens with a pass key in its middle, then the question. The key
  // appears nowhere else, so the reply can only hold it by reading the document.
  const key = '40718';
  const before = 'The harbour town woke slowly that winter. Fishing boats lay at their moorings, and the men who owned them stood in ' +
    'the doorways of the sheds talking of the weather, of prices at the market, and of the new road that the council had promised ' +
    'for many years and had never built. The schoolmaster walked down the hill at eight, as he always did, with his books under his ' +
    'arm and his collar turned up against the wind. In the square the baker had already sold half of his bread, and the post office ' +
    'was open, though nobody came for letters until the coach arrived at noon. Old Mrs. Penrose sat at her window and counted the ' +
    'people who passed, for she liked to know who was about and who was not, and she wrote their names in a little book.';
  const after = 'At noon the coach came in from the north, late as usual, and the driver said that the river had risen in the night and ' +
    'covered the lower road. The passengers were two farmers, a young clergyman on his way to a new parish, and a lady in grey who ' +
    'asked for the inn and said nothing more. By evening the wind had dropped, the boats went out on the tide, and the lamps were lit ' +
    'one by one along the quay, while the schoolmaster sat by his fire and corrected the exercises of thirty children who had ' +
    'learned, that day, a little about the rivers of Europe and a great deal about the snow.';
  const line = `${before} The pass key is ${key}. Remember it. ${after} What is the pass key?`;
  const r = await sparqWithInput(line + '\n', 'chat', '-m', model, '-t', '0', '-n', '16', '--threads', '1', '-c', '1024');
  assert.equal(r.code, 0, r.stderr);
  const reply = r.stdout.trim();
  assert.equal(r.stdout.split('\n').filter((l) => l.trim()).length, 1, `one reply line expected, got ${JSON.stringify(r.stdout)}`);
  assert.ok(reply.includes(key), `the reply ${JSON.stringify(reply)} does not hold the pass key ${key}`);
});

test('chat and serve are listed with their options; serve refuses a missing template file with one line', async () => {
  const help = await sparq('--help');
  assert.match(help.stdout, /chat/);
  assert.match(help.stdout, /serve/);
  const serveHelp = await sparq('serve', '--help');
  for (const flag of ['--host', '--port', '--api-key', '--parallel', '--chat-template-file']) assert.match(serveHelp.stdout, new RegExp(flag));
  assertUserError(await sparq('serve', '--chat-template-file', 'no-such-template.jinja', '--port', '0'), /no-such-template\.jinja/);
});

const defaultModel = fileURLToPath(new URL('../../models/default.gguf', import.meta.url));
const quick = ['-m', defaultModel, '-t', '0', '-n', '6', '--threads', '1', '-c', '64'];

test('generate reads the prompt from --file or from stdin (-): the same text as the argument', async () => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'sparq-cli-'));
  try {
    const file = join(dir, 'prompt.txt');
    writeFileSync(file, 'Once upon a time');
    const byArg = await sparq('generate', ...quick, 'Once upon a time');
    assert.equal(byArg.code, 0, byArg.stderr);
    assert.ok(byArg.stdout.length > 0);
    const byFile = await sparq('generate', ...quick, '-f', file);
    assert.equal(byFile.stdout, byArg.stdout, byFile.stderr);
    const byStdin = await sparqWithInput('Once upon a time', 'generate', ...quick, '-');
    assert.equal(byStdin.stdout, byArg.stdout, byStdin.stderr);
    assertUserError(await sparq('generate', ...quick), /exactly one of them/);
    assertUserError(await sparq('generate', ...quick, '-f', file, 'hi'), /exactly one of them/);
    assertUserError(await sparq('generate', ...quick, '-f', join(dir, 'missing.txt')), /missing\.txt: no such file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a context above the trained one and more threads than cores are warned about; --memory-limit refuses a model over it', async () => {
  const { availableParallelism } = await import('node:os');
  const warned = await sparq('generate', '-m', defaultModel, '-t', '0', '-n', '2', '-c', '8192', '--threads', String(availableParallelism() + 1), 'Hi');
  assert.equal(warned.code, 0, warned.stderr);
  assert.match(warned.stderr, /^warning: context 8192 is above the 4096 positions/m);
  assert.match(warned.stderr, /^warning: \d+ threads on \d+ cores/m);
  assertUserError(await sparq('generate', ...quick, '--memory-limit', '16M', 'Hi'), /memory limit (is|of) 16\.0 MiB/);
  const bad = await sparq('generate', ...quick, '--memory-limit', '12X', 'Hi');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--memory-limit.*expected a size in bytes/);
});

test('info names the tensors a load ignores and leaves them out of the weights estimate', async () => {
  const { mkdtempSync, readFileSync: read, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { decodeGGUF, encodeGGUF } = await import('../fuzz/gguf-codec.mjs');
  const dir = mkdtempSync(join(tmpdir(), 'sparq-cli-'));
  try {
    const g = decodeGGUF(read(defaultModel));
    const end = Math.ceil(g.data.length / 32) * 32;
    const data = new Uint8Array(end + (4 << 20));
    data.set(g.data);
    const file = join(dir, 'extra.gguf');
    writeFileSync(file, encodeGGUF({ ...g, data, tensors: [...g.tensors, { name: 'vision.unused.weight', dims: [1 << 20], type: 0, offset: end }] }).bytes);
    const [plain, extra] = [await sparq('info', defaultModel), await sparq('info', file)];
    assert.equal(extra.code, 0, extra.stderr);
    assert.match(extra.stdout, /ignored by a load \(the model reads none of them\): 1 tensor, 4\.0 MiB: vision\.unused\.weight/);
    assert.doesNotMatch(plain.stdout, /ignored by a load/);
    const weights = (out) => /^ {2}weights +(.*)$/m.exec(out)[1];
    assert.equal(weights(extra.stdout), weights(plain.stdout));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
