// Translates the regex dialect of tokenizer.json files (Oniguruma / Rust fancy-regex) into a JS RegExp with
// the `u` flag. JS (Node 20) lacks three things those patterns use, which are rewritten here:
//   - scoped case folding `(?i:...)`: letters inside become `[xX]` classes (ASCII-style folding only);
//   - possessive quantifiers `X*+ X++ X?+ X{n,m}+` and atomic groups `(?>X)`: emulated exactly with
//     `(?=(X))\k<n>` (a lookahead captures what X matches greedily, the back-reference consumes it without
//     offering backtracking points);
//   - `\p{Han}`-style script names: written as `\p{Script=Han}`; `\A` and `\z` become `^` and `$`.
// Escapes JS rejects in `u` mode (`\'`, `\"`, ...) are written as the plain character.
import { UnsupportedError } from '../errors.js';

interface Frame { head: string; atoms: string[]; ci: boolean }

const SYNTAX = new Set('^$\\.*+?()[]{}|/'.split(''));

function caseVariants(ch: string): string[] {
  const lo = ch.toLowerCase(), up = ch.toUpperCase();
  if (lo === up || [...lo].length !== 1 || [...up].length !== 1) return [ch];
  return lo === ch ? [ch, up] : [lo, ch];
}

function escapeClassChar(ch: string): string {
  return /[\\\]\[\-^]/.test(ch) ? '\\' + ch : ch;
}

/** Under case folding, the other-case counterpart of an ASCII letter range ('' for non-letters). */
function foldedRange(lo: string, hi: string, p: string): string {
  if (/[a-z]/.test(lo) && /[a-z]/.test(hi)) return `${lo.toUpperCase()}-${hi.toUpperCase()}`;
  if (/[A-Z]/.test(lo) && /[A-Z]/.test(hi)) return `${lo.toLowerCase()}-${hi.toLowerCase()}`;
  if (/\p{L}/u.test(lo + hi)) throw new UnsupportedError(`case-folded range ${lo}-${hi} in regex /${p}/`);
  return '';
}

function propertyEscape(neg: boolean, name: string, pattern: string): string {
  const letter = neg ? 'P' : 'p';
  for (const candidate of [name, `Script=${name}`]) {
    try {
      new RegExp(`\\${letter}{${candidate}}`, 'u');
      return `\\${letter}{${candidate}}`;
    } catch { /* try the next spelling */ }
  }
  throw new UnsupportedError(`regex property \\${letter}{${name}} in /${pattern}/ has no JS equivalent`);
}

/** Reads one escape at pattern[i] (the backslash); returns its JS form and the index after it. */
function readEscape(p: string, i: number, inClass: boolean): [string, number] {
  const c = p[i + 1];
  if (c === undefined) throw new UnsupportedError(`regex /${p}/ ends with a lone backslash`);
  if (c === 'p' || c === 'P') {
    if (p[i + 2] === '{') {
      const end = p.indexOf('}', i + 3);
      if (end < 0) throw new UnsupportedError(`unterminated \\${c}{ in regex /${p}/`);
      return [propertyEscape(c === 'P', p.slice(i + 3, end), p), end + 1];
    }
    return [propertyEscape(c === 'P', p[i + 2], p), i + 3]; // one-letter form \pL
  }
  if ((c === 'x' || c === 'u') && p[i + 2] === '{') {
    const end = p.indexOf('}', i + 3);
    if (end < 0) throw new UnsupportedError(`unterminated \\${c}{ in regex /${p}/`);
    return [`\\u{${p.slice(i + 3, end)}}`, end + 1];
  }
  if (c === 'x') return [p.slice(i, i + 4), i + 4];
  if (c === 'u') return [p.slice(i, i + 6), i + 6];
  if (c === 'A' && !inClass) return ['^', i + 2];
  if (c === 'z' && !inClass) return ['$', i + 2];
  if (c === 'Z' && !inClass) return ['(?=\\n?$)', i + 2];
  if (/[1-9]/.test(c)) throw new UnsupportedError(`numbered back-reference in regex /${p}/ is not supported`);
  if ('dDwWsSbBnrtfv0'.includes(c) || SYNTAX.has(c) || (inClass && c === '-')) return ['\\' + c, i + 2];
  if (/[A-Za-z]/.test(c)) throw new UnsupportedError(`regex escape \\${c} in /${p}/ has no JS equivalent`);
  return [inClass ? escapeClassChar(c) : c, i + 2]; // identity escape of a non-syntax character
}

/** The one character a JS escape stands for (`\u{212a}`, `\x41`, `\n`, `\-`); undefined for a class (`\d`, `\p{L}`). */
function escapedChar(esc: string): string | undefined {
  const hex = /^\\(?:u\{([0-9A-Fa-f]+)\}|u([0-9A-Fa-f]{4})|x([0-9A-Fa-f]{2}))$/.exec(esc);
  if (hex) {
    const cp = parseInt(hex[1] ?? hex[2] ?? hex[3], 16);
    return cp <= 0x10ffff ? String.fromCodePoint(cp) : undefined;
  }
  const control: Record<string, string> = { n: '\n', r: '\r', t: '\t', f: '\f', v: '\v', 0: '\0' };
  if (esc.length === 2 && esc[0] === '\\') return control[esc[1]] ?? (/[A-Za-z0-9]/.test(esc[1]) ? undefined : esc[1]);
  return esc.length === 1 ? esc : undefined;
}

/** One member of a class at pattern[j]: its JS text, the character it stands for (if one), and the index after it. */
function readClassAtom(p: string, j: number): { text: string; char: string | undefined; next: number } {
  if (p[j] === '\\') {
    const [text, next] = readEscape(p, j, true);
    return { text, char: escapedChar(text), next };
  }
  const char = String.fromCodePoint(p.codePointAt(j)!);
  return { text: escapeClassChar(char), char, next: j + char.length };
}

/**
 * Reads a character class at pattern[i] ('['); folds letters to both cases when `ci`. Range ends may be
 * characters or escapes of one character (`[\u4e00-\u9fa5]`).
 */
function readClass(p: string, i: number, ci: boolean): [string, number] {
  let out = '[';
  let j = i + 1;
  if (p[j] === '^') { out += '^'; j++; }
  if (p[j] === ']') { out += '\\]'; j++; } // a leading ']' is literal in Oniguruma
  while (j < p.length && p[j] !== ']') {
    if (p[j] === '[') {
      if (p[j + 1] === ':') throw new UnsupportedError(`POSIX class in regex /${p}/ is not supported`);
      throw new UnsupportedError(`nested character class in regex /${p}/ is not supported`);
    }
    const lo = readClassAtom(p, j);
    j = lo.next;
    if (lo.char !== undefined && p[j] === '-' && j + 1 < p.length && p[j + 1] !== ']') {
      const hi = readClassAtom(p, j + 1);
      if (hi.char === undefined) throw new UnsupportedError(`range ending in a class in regex /${p}/`);
      if (hi.char.codePointAt(0)! < lo.char.codePointAt(0)!) throw new UnsupportedError(`range out of order in regex /${p}/`);
      out += `${lo.text}-${hi.text}`;
      if (ci) out += foldedRange(lo.char, hi.char, p);
      j = hi.next;
      continue;
    }
    out += ci && lo.char !== undefined && lo.text === escapeClassChar(lo.char) ? caseVariants(lo.char).map(escapeClassChar).join('') : lo.text;
  }
  if (j >= p.length) throw new UnsupportedError(`unterminated character class in regex /${p}/`);
  return [out + ']', j + 1];
}

/** Translates an Oniguruma-style pattern; the result uses the flags 'gu'. */
export function translateRegex(pattern: string): RegExp {
  const stack: Frame[] = [{ head: '', atoms: [], ci: false }];
  let atomicCount = 0;
  const atomic = (inner: string) => {
    const name = `a${atomicCount++}`;
    return `(?=(?<${name}>${inner}))\\k<${name}>`;
  };
  let i = 0;
  const p = pattern;
  while (i < p.length) {
    const top = stack[stack.length - 1];
    const c = p[i];
    if (c === '\\') {
      const [esc, next] = readEscape(p, i, false);
      top.atoms.push(top.ci && esc.length === 1 ? `[${caseVariants(esc).map(escapeClassChar).join('')}]` : esc);
      i = next;
    } else if (c === '[') {
      const [cls, next] = readClass(p, i, top.ci);
      top.atoms.push(cls);
      i = next;
    } else if (c === '(') {
      if (p.startsWith('(?i)', i)) { top.ci = true; i += 4; continue; }
      let head = '(', ci = top.ci, skip = 1;
      if (p.startsWith('(?i:', i)) { head = '(?:'; ci = true; skip = 4; }
      else if (p.startsWith('(?-i:', i)) { head = '(?:'; ci = false; skip = 5; }
      else if (p.startsWith('(?>', i)) { head = '(?>'; skip = 3; }
      else if (p[i + 1] === '?') {
        const m = /^\(\?(?::|=|!|<=|<!|<[A-Za-z_][A-Za-z0-9_]*>|P<[A-Za-z_][A-Za-z0-9_]*>)/.exec(p.slice(i));
        if (!m) throw new UnsupportedError(`group syntax at ${i} in regex /${p}/ is not supported`);
        head = m[0].replace('(?P<', '(?<'); skip = m[0].length;
      }
      stack.push({ head, atoms: [], ci });
      i += skip;
    } else if (c === ')') {
      if (stack.length === 1) throw new UnsupportedError(`unbalanced ')' in regex /${p}/`);
      const f = stack.pop()!;
      const inner = f.atoms.join('');
      stack[stack.length - 1].atoms.push(f.head === '(?>' ? atomic(inner) : `${f.head}${inner})`);
      i++;
    } else if (c === '*' || c === '+' || c === '?' || c === '{') {
      let q = c, j = i + 1;
      if (c === '{') {
        const m = /^\{\d*(,\d*)?\}/.exec(p.slice(i));
        if (!m) { top.atoms.push('\\{'); i++; continue; } // a literal brace
        q = m[0]; j = i + q.length;
      }
      if (top.atoms.length === 0) throw new UnsupportedError(`quantifier without an operand in regex /${p}/`);
      const last = top.atoms.length - 1;
      if (p[j] === '+') { top.atoms[last] = atomic(top.atoms[last] + q); j++; }
      else if (p[j] === '?') { top.atoms[last] += q + '?'; j++; }
      else top.atoms[last] += q;
      i = j;
    } else if (c === '|' || c === '^' || c === '$' || c === '.') {
      top.atoms.push(c);
      i++;
    } else {
      const ch = String.fromCodePoint(p.codePointAt(i)!);
      const variants = top.ci ? caseVariants(ch) : [ch];
      top.atoms.push(variants.length > 1 ? `[${variants.join('')}]` : SYNTAX.has(ch) || ch === ']' || ch === '}' ? '\\' + ch : ch);
      i += ch.length;
    }
  }
  if (stack.length !== 1) throw new UnsupportedError(`unbalanced '(' in regex /${p}/`);
  try {
    return new RegExp(stack[0].atoms.join(''), 'gu');
  } catch (e) {
    throw new UnsupportedError(`regex /${p}/ could not be translated to JS: ${(e as Error).message}`);
  }
}
