// Chat in the library: where templates come from (HF tokenizer_config.json and chat_template.jinja, and the
// GGUF keys our converter writes from them, named variants included), the error of a model without one,
// and sessions: a later turn reuses the cached KV rows of the earlier ones and still answers exactly what a
// fresh model answers for the whole conversation; a conversation that outgrows the context leaves out its
// oldest messages instead of failing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel, UnsupportedError, InvalidArgumentError, FormatError } from '../../dist/index.js';
import { convertHFToGGUF } from '../../dist/convert/index.js';

const DEFAULT = fileURLToPath(new URL('../../models/default.gguf', import.meta.url));
const GQA = fileURLToPath(new URL('../fixtures/llama-gqa', import.meta.url));
const CHATML = readFileSync(new URL('../fixtures/chat-templates/chatml.jinja', import.meta.url), 'utf8');
const TOOLS = '{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}{% if tools %}tools: {{ tools | length }}{% endif %}';

async function drain(gen) {
  for await (const _ of gen) { /* drain */ }
  return gen.result;
}

test('templates from an HF directory (tokenizer_config.json list and chat_template.jinja) and from the GGUF converted from it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sparq-chat-'));
  try {
    const hf = join(dir, 'hf');
    cpSync(GQA, hf, { recursive: true });
    const tc = JSON.parse(readFileSync(join(hf, 'tokenizer_config.json'), 'utf8'));
    tc.chat_template = [{ name: 'default', template: 'replaced by chat_template.jinja' }, { name: 'tool_use', template: TOOLS }];
    writeFileSync(join(hf, 'tokenizer_config.json'), JSON.stringify(tc));
    writeFileSync(join(hf, 'chat_template.jinja'), CHATML);
    const gguf = join(dir, 'model.gguf');
    await convertHFToGGUF(hf, gguf, 'F32', { warn: () => {} });
    for (const src of [hf, gguf]) {
      const model = await loadModel(src, { threads: 1, contextLength: 64 });
      try {
        assert.deepEqual([...model.chatTemplates.keys()].sort(), ['default', 'tool_use'], src);
        assert.equal(model.chatTemplates.get('default'), CHATML, src);
        const messages = [{ role: 'user', content: 'hi' }];
        assert.equal(model.applyChatTemplate(messages), '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n');
        assert.equal(model.applyChatTemplate(messages, { templateName: 'tool_use', tools: [{ type: 'function' }] }), '[user] hi\ntools: 1');
        assert.throws(() => model.applyChatTemplate(messages, { templateName: 'nope' }), InvalidArgumentError);
      } finally {
        model.dispose();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the default model has its own ChatML template and stops a reply at <|im_end|> (its end-of-turn id)', async () => {
  const model = await loadModel(DEFAULT, { threads: 1, contextLength: 64 });
  try {
    assert.deepEqual([...model.chatTemplates.keys()], ['default']);
    const messages = [{ role: 'user', content: 'hi' }];
    assert.equal(model.applyChatTemplate(messages), '<|bos|><|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n');
    const ids = model.tokenize(model.applyChatTemplate(messages), { addSpecial: false, parseSpecial: true });
    const end = model.tokenize('<|im_end|>', { addSpecial: false, parseSpecial: true });
    assert.equal(end.length, 1);
    assert.equal(ids.filter((id) => id === end[0]).length, 1);
    assert.ok(model.tokenizer.stopIds.has(end[0]));
    assert.ok(model.tokenizer.stopIds.has(model.tokenizer.eos));
    // the file names it as its end-of-turn token
    const { decodeGGUF } = await import('../fuzz/gguf-codec.mjs');
    const eot = decodeGGUF(new Uint8Array(readFileSync(DEFAULT))).kvs.find((kv) => kv.key === 'tokenizer.ggml.eot_token_id');
    assert.equal(eot?.value, end[0]);
  } finally {
    model.dispose();
  }
});

test('a model without a chat template: chat() says how to pass one', async () => {
  const model = await loadModel(GQA, { threads: 1, contextLength: 64 });
  try {
    assert.equal(model.chatTemplates.size, 0);
    assert.throws(() => model.chat([{ role: 'user', content: 'hi' }]), (e) => e instanceof UnsupportedError && /chatTemplate/.test(e.message));
    assert.throws(() => model.chat([], { chatTemplate: CHATML }), InvalidArgumentError);
  } finally {
    model.dispose();
  }
});

test('a session reuses the KV rows of earlier turns and answers what a fresh model answers for the whole conversation', async () => {
  const opts = { threads: 1, contextLength: 512 };
  const sampling = { temperature: 0, maxTokens: 16 };
  const model = await loadModel(DEFAULT, opts);
  const fresh = await loadModel(DEFAULT, opts);
  try {
    const session = model.createSession({ system: 'You tell short stories.', chatTemplate: CHATML });
    const first = await drain(session.send('Tell me about a fox.', sampling));
    const second = await drain(session.send('And then what happened?', sampling));
    assert.equal(first.stats.cachedTokens, 0);
    // the second prompt starts with the first prompt and reply (all but the last reply token were evaluated)
    assert.ok(second.stats.cachedTokens >= first.stats.promptTokens + first.stats.generatedTokens - 1,
      `cached ${second.stats.cachedTokens} of ${second.stats.promptTokens}`);
    assert.deepEqual(session.messages.map((m) => m.role), ['system', 'user', 'assistant', 'user', 'assistant']);
    const want = await drain(fresh.chat(session.messages.slice(0, 4), { ...sampling, chatTemplate: CHATML, cachePrompt: false }));
    assert.equal(second.text, want.text);
    assert.deepEqual(second.tokens, want.tokens);
    session.reset();
    assert.deepEqual(session.messages.map((m) => m.role), ['system']);
  } finally {
    model.dispose();
    fresh.dispose();
  }
});

test('a conversation longer than the context leaves out its oldest turns, never fails; one message too long for it is an error', async () => {
  const model = await loadModel(DEFAULT, { threads: 1, contextLength: 160 });
  try {
    const session = model.createSession({ system: 'Be brief.', chatTemplate: CHATML });
    const long = 'The river ran past the old mill and under the stone bridge. ';
    let dropped = 0;
    for (let i = 0; i < 6; i++) {
      const r = await drain(session.send(`${long}(${i})`, { temperature: 0, maxTokens: 12 }));
      assert.ok(r.stats.promptTokens + r.stats.generatedTokens <= 160);
      dropped = Math.max(dropped, r.stats.droppedMessages ?? 0);
    }
    assert.ok(dropped > 0, 'older messages were left out');
    assert.equal(session.messages.length, 13, 'the session keeps the whole conversation');
    assert.throws(() => session.send(long.repeat(20)), InvalidArgumentError);
  } finally {
    model.dispose();
  }
});

test("a model whose own template does not parse is the file's error; a chatTemplate option that does not parse is the caller's", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sparq-chat-'));
  try {
    const hf = join(dir, 'hf');
    cpSync(GQA, hf, { recursive: true });
    writeFileSync(join(hf, 'chat_template.jinja'), '{% for m in messages %}{{ m.content }}');
    const model = await loadModel(hf, { threads: 1, contextLength: 64 });
    try {
      const messages = [{ role: 'user', content: 'hi' }];
      assert.throws(() => model.applyChatTemplate(messages), (e) => e instanceof FormatError && /tokenizer\.chat_template/.test(e.message));
      assert.throws(() => model.applyChatTemplate(messages, { chatTemplate: '{% if %}' }), (e) => e instanceof InvalidArgumentError && /chatTemplate option/.test(e.message));
      assert.equal(model.applyChatTemplate(messages, { chatTemplate: CHATML }), '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n');
    } finally {
      model.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
