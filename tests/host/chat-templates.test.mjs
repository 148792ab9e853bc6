// Chat templates against transformers: the real templates of tests/fixtures/chat-templates (sources in its
// SOURCES.md) rendered by our renderChat must equal, byte for byte, what transformers' apply_chat_template
// rendered for the same conversations (expected.json, made by tools/chat-templates/render.py); where the
// template raises for a conversation, ours must raise too (a typed error).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { renderChat } from '../../dist/engine/chat.js';
import { InvalidArgumentError } from '../../dist/errors.js';

const dir = new URL('../fixtures/chat-templates/', import.meta.url);
const { conversations, templates } = JSON.parse(readFileSync(new URL('conversations.json', dir), 'utf8'));
const expected = JSON.parse(readFileSync(new URL('expected.json', dir), 'utf8'));

/** The special-token side of a tokenizer: bos/eos as the template entry names them (null: the model has none). */
function specialTokens(t) {
  const text = [t.bos_token, t.eos_token];
  return { bos: t.bos_token === null ? null : 0, eos: t.eos_token === null ? null : 1, tokenText: (id) => text[id] };
}

for (const [name, t] of Object.entries(templates)) {
  test(`${name}: every conversation renders as transformers renders it`, () => {
    const source = readFileSync(new URL(t.file, dir), 'utf8');
    for (const id of t.conversations) {
      const c = conversations[id];
      const want = expected[`${name}/${id}`];
      assert.ok(want, `no expected output for ${name}/${id}`);
      const render = () => renderChat(source, specialTokens(t), c.messages, {
        addGenerationPrompt: c.add_generation_prompt, tools: c.tools, variables: { ...t.extras, ...c.extras },
      });
      if (want.error !== undefined) {
        assert.throws(render, InvalidArgumentError, `${name}/${id} should fail like transformers: ${want.error}`);
      } else {
        assert.equal(render(), want.text, `${name}/${id}`);
      }
    }
  });
}
