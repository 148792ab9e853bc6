// A multi-turn chat: the conversation so far, rendered with the model's template at every turn. The model's
// KV cache keeps the rows of the previous turns, so a turn prefills only the tokens past the longest common
// prefix with what is cached. When the conversation outgrows the context, the oldest messages after the
// system message are left out of the prompt (the turn's stats say how many), never an error, unless the
// system message and the newest message alone do not fit.
import type { ChatMessage, ChatTemplateOptions } from './chat.js';
import type { Generation, GenerateOptions, GenerationResult } from './types.js';
import { InvalidArgumentError } from '../errors.js';

export interface SessionOptions extends ChatTemplateOptions {
  /** The system message (kept at the start of every prompt). */
  system?: string;
}

/** What a session needs from its model. */
export interface SessionHost {
  readonly contextLength: number;
  /** The prompt ids of `messages` (rendered and tokenized). */
  promptIds(messages: ChatMessage[], opts: ChatTemplateOptions): number[];
  /** Generation from prompt ids, reusing the model's cached prefix. */
  generateIds(ids: number[], opts: GenerateOptions, droppedMessages: number): Generation;
  /** The conversation and the cached KV rows of a prefix of `ids`, as portable bytes (saved-session.ts). */
  save(ids: readonly number[], messages: ChatMessage[], options: SessionOptions): Uint8Array;
}

export class ChatSession {
  private readonly history: ChatMessage[];
  /** The ids of the last turn's prompt and reply: the KV rows worth keeping. */
  private lastIds: number[];

  /** history and lastIds: a conversation to go on with (a restored session's). */
  constructor(private readonly host: SessionHost, private readonly options: SessionOptions = {}, history: ChatMessage[] = [],
    lastIds: number[] = []) {
    if (options.system !== undefined && typeof options.system !== 'string') throw new InvalidArgumentError('system must be a string');
    this.history = [...history];
    this.lastIds = [...lastIds];
  }

  /**
   * The conversation, its options and the KV rows of its last turn (as far as a cache slot still holds them)
   * as bytes, for model.restoreSession in this or another runtime: a Worker can keep a conversation in
   * storage between requests. A turn in progress is not included.
   */
  save(): Uint8Array {
    return this.host.save(this.lastIds, this.history, this.options);
  }

  /** The conversation so far (the system message first, when there is one). */
  get messages(): readonly ChatMessage[] {
    return this.options.system === undefined ? [...this.history] : [{ role: 'system', content: this.options.system }, ...this.history];
  }

  /**
   * Adds a user message (text, or a message of any role) and streams the reply, which joins the conversation
   * when the generation ends (also when it is stopped early, with what was generated).
   */
  send(message: string | ChatMessage, opts: GenerateOptions = {}): Generation {
    const m: ChatMessage = typeof message === 'string' ? { role: 'user', content: message } : message;
    const maxTokens = opts.maxTokens ?? 256;
    // room for the reply: what the caller asks for, at most a quarter of the context
    const room = Math.min(maxTokens, Math.floor(this.host.contextLength / 4));
    const turn = [...this.history, m];
    let dropped = 0;
    let ids = this.host.promptIds(this.withSystem(turn), this.options);
    while (ids.length + room > this.host.contextLength) {
      if (turn.length - dropped <= 1) {
        throw new InvalidArgumentError(`the newest message needs ${ids.length} prompt tokens with the system message; the context holds ${this.host.contextLength} (${room} kept for the reply)`);
      }
      dropped += this.droppable(turn, dropped);
      ids = this.host.promptIds(this.withSystem(turn.slice(dropped)), this.options);
    }
    const gen = this.host.generateIds(ids, opts, dropped);
    this.history.push(m);
    const keep = (r: GenerationResult) => {
      if (r.text !== '') this.history.push({ role: 'assistant', content: r.text });
      this.lastIds = [...ids, ...r.tokens];
    };
    gen.result.then(keep, () => {});
    return gen;
  }

  /** Forget the conversation, keeping the system message. */
  reset(): void {
    this.history.length = 0;
    this.lastIds = [];
  }

  private withSystem(messages: ChatMessage[]): ChatMessage[] {
    return this.options.system === undefined ? messages : [{ role: 'system', content: this.options.system }, ...messages];
  }

  /** Messages to leave out next from turn[from...]: a user message with the replies that follow it, or one message. */
  private droppable(turn: ChatMessage[], from: number): number {
    let n = 1;
    while (from + n < turn.length - 1 && turn[from + n].role !== 'user') n++;
    return n;
  }
}
