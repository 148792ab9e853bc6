// Chat prompts: a model's own Jinja chat template rendered with @huggingface/jinja, with the variables
// transformers' apply_chat_template passes (messages, add_generation_prompt, bos_token, eos_token, tools and
// the template's own extras such as enable_thinking), so the text matches what the model was trained on.
import { Template } from '@huggingface/jinja';
import type { ChatTemplates } from '../tokenizer/chat-templates.js';
import type { Tokenizer } from '../tokenizer/index.js';
import { FormatError, InvalidArgumentError, UnsupportedError } from '../errors.js';

/** A chat message as the OpenAI API and chat templates know it. */
export interface ChatMessage {
  role: string;
  /** Text, a list of content parts ({ type: 'text', text }), or null (an assistant turn with tool calls only). */
  content: string | null | { type: string; text?: string }[];
  name?: string;
  tool_calls?: { id?: string; type: 'function'; function: { name: string; arguments: string | Record<string, unknown> } }[];
  tool_call_id?: string;
  /** Any other field a template reads (e.g. reasoning_content). */
  [field: string]: unknown;
}

export interface ChatTemplateOptions {
  /** End the prompt with the opening of an assistant turn (default true). */
  addGenerationPrompt?: boolean;
  /** Tool (function) definitions in OpenAI's JSON-schema form, for templates that render them. */
  tools?: unknown[];
  /** A Jinja chat template to use instead of the model's (the source text, as in tokenizer_config.json). */
  chatTemplate?: string;
  /** One of the model's named templates (GGUF tokenizer.chat_template.<name>, e.g. 'tool_use'); default 'default'. */
  templateName?: string;
  /** More variables for the template (e.g. { enable_thinking: false }, { date_string: '26 Jul 2024' }). */
  variables?: Record<string, unknown>;
}

const compiled = new Map<string, Template>();

/** `fromModel`: the template is the model's own, so a parse failure is the model file's fault, not the caller's. */
function compile(source: string, fromModel: boolean): Template {
  let t = compiled.get(source);
  if (!t) {
    try {
      t = new Template(source);
    } catch (e) {
      const why = `does not parse: ${(e as Error).message}`;
      if (fromModel) throw new FormatError(`the model's chat template ${why}`, 'model', 'tokenizer.chat_template');
      throw new InvalidArgumentError(`the chatTemplate option ${why}`);
    }
    compiled.set(source, t);
  }
  return t;
}

/** The template source `opts` selects among the model's, or a clear error when there is none. */
export function selectTemplate(templates: ChatTemplates, opts: ChatTemplateOptions): string {
  if (opts.chatTemplate !== undefined) {
    if (typeof opts.chatTemplate !== 'string' || opts.chatTemplate === '') throw new InvalidArgumentError('chatTemplate must be a non-empty string');
    return opts.chatTemplate;
  }
  const name = opts.templateName ?? 'default';
  const t = templates.get(name);
  if (t !== undefined) return t;
  if (name !== 'default') {
    throw new InvalidArgumentError(`the model has no chat template named ${JSON.stringify(name)} (it has: ${[...templates.keys()].join(', ') || 'none'})`);
  }
  throw new UnsupportedError('the model has no chat template (GGUF tokenizer.chat_template or HF chat_template): pass one as the ' +
    'chatTemplate option, e.g. a ChatML template: {% for m in messages %}<|im_start|>{{ m.role }}\\n{{ m.content }}<|im_end|>\\n' +
    '{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\\n{% endif %}');
}

export function checkMessages(messages: unknown): asserts messages is ChatMessage[] {
  if (!Array.isArray(messages) || messages.length === 0) throw new InvalidArgumentError('messages must be a non-empty array');
  messages.forEach((m, i) => {
    if (typeof m !== 'object' || m === null) throw new InvalidArgumentError(`messages[${i}] must be an object`);
    const { role, content } = m as Record<string, unknown>;
    if (typeof role !== 'string' || role === '') throw new InvalidArgumentError(`messages[${i}].role must be a non-empty string`);
    if (!(typeof content === 'string' || content === null || content === undefined || Array.isArray(content))) {
      throw new InvalidArgumentError(`messages[${i}].content must be a string, a list of content parts or null`);
    }
  });
}

/** The prompt text of `messages` rendered by `template`, as transformers' apply_chat_template(tokenize=False) gives it. */
export function renderChat(template: string, tokenizer: Pick<Tokenizer, 'bos' | 'eos' | 'tokenText'>, messages: ChatMessage[],
  opts: ChatTemplateOptions = {}): string {
  checkMessages(messages);
  const vars: Record<string, unknown> = { ...opts.variables, messages, add_generation_prompt: opts.addGenerationPrompt ?? true };
  // a model without the token leaves the variable undefined, as transformers does
  if (tokenizer.bos !== null) vars.bos_token = tokenizer.tokenText(tokenizer.bos);
  if (tokenizer.eos !== null) vars.eos_token = tokenizer.tokenText(tokenizer.eos);
  if (opts.tools !== undefined) vars.tools = opts.tools;
  const program = compile(template, opts.chatTemplate === undefined);
  try {
    return program.render(vars);
  } catch (e) {
    throw new InvalidArgumentError(`the chat template failed on these messages: ${(e as Error).message}`);
  }
}
