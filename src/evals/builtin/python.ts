/**
 * Python semantics that ARGUS's scorers rely on, reproduced in JavaScript: `round()`, `str.split()`,
 * `str.strip()`, `len()`, `sum()` of floats, `float()` of Unicode digits, `json.loads`, and `re`
 * patterns on `str` (Unicode `\b`, `\w`, `\d`, `\s`; `.` and `^` under `re.MULTILINE`).
 * @internal
 */

/** The characters `str.isspace()` is true for (what `str.split()`, `str.strip()` and `re`'s `\s` use). */
const PY_SPACE = String.raw`\t\n\v\f\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000`;
/** `re`'s `\w` on `str`: letters, numbers (what `str.isalnum()` is true for) and `_`. */
const PY_WORD = String.raw`\p{L}\p{N}_`;
const PY_BOUNDARY = `(?:(?<=[${PY_WORD}])(?![${PY_WORD}])|(?<![${PY_WORD}])(?=[${PY_WORD}]))`;
/** `re`'s `\d` on `str`: any Unicode decimal digit (category Nd), not only 0–9. */
const PY_DIGIT = String.raw`\p{Nd}`;

/**
 * Translates a Python `re` pattern (as ARGUS writes them: literals, classes, `\b \d \s \w`, `.`,
 * `^`) into a JavaScript RegExp with the same matches on `str`. `multiline` is `re.MULTILINE`
 * (Python's `^` then matches after `\n` only, never after `\r` or U+2028 as JavaScript's would).
 */
export function pyRegex(source: string, options: { global?: boolean; multiline?: boolean } = {}): RegExp {
  let out = "";
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i] as string;
    if (c === "\\") {
      const n = source[i + 1] ?? "";
      i++;
      if (n === "b" && !inClass) out += PY_BOUNDARY;
      else if (n === "d") out += inClass ? PY_DIGIT : `[${PY_DIGIT}]`;
      else if (n === "s") out += inClass ? PY_SPACE : `[${PY_SPACE}]`;
      else if (n === "w") out += inClass ? PY_WORD : `[${PY_WORD}]`;
      else out += `\\${n}`;
    } else if (inClass) {
      if (c === "]") inClass = false;
      out += c;
    } else if (c === "[") {
      inClass = true;
      out += c;
      if (source[i + 1] === "^") out += source[++i];
    } else if (c === ".") out += String.raw`[^\n]`;
    else if (c === "^") out += options.multiline ? String.raw`(?<![^\n])` : "^";
    else if (c === "$") out += options.multiline ? String.raw`(?![^\n])` : String.raw`(?=\n?(?![\s\S]))`;
    else out += c;
  }
  return new RegExp(out, options.global ? "gu" : "u");
}

const spaceRun = new RegExp(`[${PY_SPACE}]+`, "u");
const spaceEdges = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, "gu");

/** `s.split()`: runs of Python whitespace separate, no empty strings. */
export function pySplit(s: string): string[] {
  return s.split(spaceRun).filter((w) => w !== "");
}

/** `s.strip()`. */
export function pyStrip(s: string): string {
  return s.replace(spaceEdges, "");
}

/** `len(s)`: code points, not UTF-16 units. */
export function pyLen(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** `s.count(sub)` for a non-empty `sub`. */
export function pyCount(s: string, sub: string): number {
  return s.split(sub).length - 1;
}

/**
 * `sum(xs)` of floats as CPython 3.12+ computes it: Neumaier-compensated (3.11 and earlier added
 * left to right; the two differ only in the last bits, never at 4 decimals in ARGUS's sums of a
 * few scores, except on an exact tie).
 */
export function pySum(xs: readonly number[]): number {
  let sum = 0;
  let c = 0;
  for (const x of xs) {
    const t = sum + x;
    if (Math.abs(sum) >= Math.abs(x)) c += sum - t + x;
    else c += x - t + sum;
    sum = t;
  }
  return c !== 0 && Number.isFinite(c) ? sum + c : sum;
}

/**
 * `round(x, ndigits)`: the exact binary value of `x` rounded to `ndigits` decimals, a tie to the
 * even digit (Python), where JavaScript's `Math.round(x * 10**n) / 10**n` rounds the product
 * (already inexact) half up: `round(0.03125, 4)` is 0.0312 in Python, 0.0313 that way.
 */
export function pyRound(x: number, ndigits: number): number {
  if (!Number.isFinite(x)) return x;
  // toFixed works on the exact value of x; 40 more digits show whether the rest is exactly a half.
  const exact = Math.abs(x).toFixed(Math.min(100, ndigits + 40));
  const dot = exact.indexOf(".");
  const keep = exact.slice(0, dot + 1 + ndigits);
  const rest = exact.slice(dot + 1 + ndigits);
  let digits = keep.replace(".", "");
  let up: boolean;
  if (/^50*$/.test(rest)) up = Number(digits[digits.length - 1]) % 2 === 1;
  else up = rest[0] !== undefined && rest[0] >= "5";
  if (up) digits = (BigInt(digits) + 1n).toString().padStart(digits.length, "0");
  const intLen = digits.length - ndigits;
  const text = ndigits > 0 ? `${digits.slice(0, intLen)}.${digits.slice(intLen)}` : digits;
  const v = Number(text);
  return x < 0 ? -v : v;
}

/** The value of a Unicode decimal digit (Nd characters come in runs of ten, 0 to 9). */
function digitValue(ch: string): number {
  let cp = ch.codePointAt(0) as number;
  if (cp >= 0x30 && cp <= 0x39) return cp - 0x30;
  const isNd = (c: number) => /\p{Nd}/u.test(String.fromCodePoint(c));
  let start = cp;
  while (isNd(start - 1)) start--;
  cp -= start;
  return cp % 10;
}

/** `float(s)` for the decimal numerals `\d+\.?\d*` matches (Unicode digits included). */
export function pyFloatOfDigits(s: string): number {
  let ascii = "";
  for (const ch of s) ascii += /\p{Nd}/u.test(ch) ? String(digitValue(ch)) : ch;
  return Number(ascii);
}

/**
 * Whether `json.loads(s)` succeeds: JSON, plus the bare `NaN`, `Infinity` and `-Infinity` Python
 * accepts (JSON.parse does not).
 */
export function pyJsonLoads(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    // fall through: try again with Python's non-standard constants made standard
  }
  let out = "";
  let inString = false;
  let changed = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (inString) {
      out += c;
      if (c === "\\") out += s[++i] ?? "";
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      continue;
    }
    const word = /^(?:-?Infinity|NaN)/.exec(s.slice(i, i + 9));
    if (word && !/[\w.+-]/.test(s[i - 1] ?? " ")) {
      out += "0";
      i += word[0].length - 1;
      changed = true;
      continue;
    }
    out += c;
  }
  if (!changed) return false;
  try {
    JSON.parse(out);
    return true;
  } catch {
    return false;
  }
}
