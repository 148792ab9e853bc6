// Splitting text pieces by a regex, with the delimiter behaviours of HF's Split pre-tokenizer. llama.cpp's
// pre-tokenizer lists are the `isolated` case applied once per regex in order.

export type SplitBehavior = 'isolated' | 'removed' | 'mergedWithPrevious' | 'mergedWithNext' | 'contiguous';

/** Spans of `text` as [start, end, isMatch], covering it; empty matches are ignored. */
function spans(text: string, re: RegExp): Array<[number, number, boolean]> {
  const out: Array<[number, number, boolean]> = [];
  let last = 0;
  re.lastIndex = 0;
  for (;;) {
    const m = re.exec(text);
    if (m === null) break;
    const start = m.index, end = start + m[0].length;
    if (end === start) {
      // step over one code point so a pattern that can match empty makes progress
      re.lastIndex = start + (text.codePointAt(start)! > 0xffff ? 2 : 1);
      if (re.lastIndex > text.length) break;
      continue;
    }
    if (start > last) out.push([last, start, false]);
    out.push([start, end, true]);
    last = end;
  }
  if (last < text.length) out.push([last, text.length, false]);
  return out;
}

/** Splits every piece; the regex must have the `g` flag. With `invert`, non-matches are the delimiters. */
export function splitPieces(pieces: string[], re: RegExp, behavior: SplitBehavior = 'isolated', invert = false): string[] {
  const out: string[] = [];
  for (const text of pieces) {
    const parts = spans(text, re);
    let pendingNext = ''; // delimiter waiting to be prepended (mergedWithNext)
    let prevDelim = false;
    let firstOfPiece = true;
    for (const [s, e, matched] of parts) {
      const delim = matched !== invert;
      const t = text.slice(s, e);
      switch (behavior) {
        case 'isolated':
          out.push(t);
          break;
        case 'removed':
          if (!delim) out.push(t);
          break;
        case 'mergedWithPrevious':
          if (delim && !firstOfPiece) out[out.length - 1] += t;
          else out.push(t);
          break;
        case 'mergedWithNext':
          if (delim) pendingNext += t;
          else { out.push(pendingNext + t); pendingNext = ''; }
          break;
        case 'contiguous':
          if (delim && prevDelim) out[out.length - 1] += t;
          else out.push(t);
          break;
      }
      prevDelim = delim;
      firstOfPiece = false;
    }
    if (pendingNext) out.push(pendingNext);
  }
  return out;
}
