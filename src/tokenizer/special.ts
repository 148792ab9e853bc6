// Added/special tokens: finding them in input text, and recognising the ones that end generation.

export interface AddedToken {
  id: number;
  content: string;
  /** control token (BOS, <|eot_id|>...): matched only when special parsing is on */
  special: boolean;
  /** swallow whitespace on the left / right of the token (HF added_tokens lstrip / rstrip) */
  lstrip?: boolean;
  rstrip?: boolean;
}

/** Tokens indexed by their first UTF-16 unit, longest first, so the longest token at a position wins. */
function indexByFirstUnit(tokens: AddedToken[]): Map<number, AddedToken[]> {
  const m = new Map<number, AddedToken[]>();
  for (const t of tokens) {
    const k = t.content.charCodeAt(0);
    const list = m.get(k);
    if (list) list.push(t); else m.set(k, [t]);
  }
  for (const list of m.values()) list.sort((x, y) => y.content.length - x.content.length);
  return m;
}

export class SpecialSplitter {
  private readonly all: Map<number, AddedToken[]>;
  private readonly plain: Map<number, AddedToken[]>;

  constructor(tokens: readonly AddedToken[]) {
    const seen = new Set<string>();
    const unique = tokens.filter((t) => t.content.length > 0 && !seen.has(t.content) && seen.add(t.content));
    this.all = indexByFirstUnit(unique);
    this.plain = indexByFirstUnit(unique.filter((t) => !t.special));
  }

  /** Splits text into raw fragments (strings) and token ids, in order, scanning left to right. */
  split(text: string, parseSpecial: boolean): Array<string | number> {
    const index = parseSpecial ? this.all : this.plain;
    const out: Array<string | number> = [];
    let last = 0; // start of the pending raw text
    let i = 0;
    while (i < text.length) {
      const candidates = index.get(text.charCodeAt(i));
      const tok = candidates?.find((t) => text.startsWith(t.content, i));
      if (!tok) { i++; continue; }
      let before = text.slice(last, i);
      if (tok.lstrip) before = before.trimEnd();
      if (before.length > 0) out.push(before);
      out.push(tok.id);
      i += tok.content.length;
      if (tok.rstrip) while (i < text.length && /\s/u.test(text[i])) i++;
      last = i;
    }
    if (last < text.length) out.push(text.slice(last));
    return out;
  }
}

/** Texts of tokens that end a turn or a document in the common chat formats. */
const END_MARKERS = new Set([
  '</s>', '<|endoftext|>', '<|end_of_text|>', '<|eot_id|>', '<|eom_id|>', '<|im_end|>', '<|end|>',
  '<end_of_turn>', '<|return|>', '<|eot|>', '<EOT>', '<|END_OF_TURN_TOKEN|>', '<｜end▁of▁sentence｜>',
  '<end_of_utterance>',
]);

/** eos, eot and every control token whose text is a known end marker. */
export function stopIdsFor(
  tokens: readonly string[],
  isControl: (id: number) => boolean,
  explicit: ReadonlyArray<number | null>,
): Set<number> {
  const out = new Set<number>();
  for (const id of explicit) if (id !== null) out.add(id);
  for (let id = 0; id < tokens.length; id++) {
    if (END_MARKERS.has(tokens[id]) && isControl(id)) out.add(id);
  }
  return out;
}
