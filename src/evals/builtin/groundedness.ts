import { type JudgeModel, judgeVerdict } from "../checks.js";
import type { EvalResult, Evaluator, Finding } from "../Evaluator.js";
import { type Conversation, type ConversationSelect, readConversation } from "./conversation.js";

/** Words that carry no claim: function words, and the phrases an answer wraps its facts in. */
const STOP = new Set(
  (
    "a an the and or but nor so yet for of in on at to from by with without within into onto over under " +
    "about above below after before between through during since until upon via per than then as if " +
    "is are was were be been being am do does did done have has had having will would shall should can " +
    "could may might must not no yes it its it's this that these those there here their they them he she " +
    "his her him we us our you your i me my mine ours who whom whose which what when where why how all " +
    "any both each every few more most other some such only own same too very just also again further " +
    "once ever still even well much many lot lots one ones thing things something anything nothing " +
    "let know need needs like want hope help please thanks thank sure okay ok great glad happy found " +
    "find look looked looking see seen show shows showed shown check checked based according result " +
    "results information info details detail data following below above question answer ask asked " +
    "tell told say said says note noted mention mentioned currently current available provide provided " +
    "give given get got make made use used using would've i'm i've you're you'll i'll let's here's " +
    "there's that's it's okay else further additional regarding overall summary total around approximately " +
    "about roughly nearly almost just exactly"
  ).split(" "),
);

/** Capitalised words that start sentences without naming anything. */
const COMMON_CAPS = new Set(
  (
    "The A An And But Or So Yes No Sure Okay OK Here There This That These Those It Its I We You They He " +
    "She Our Your Their My His Her Based According As At In On For From To With Without By Of If When " +
    "While After Before Since Because Although However Also Note Please Thanks Thank Hi Hello Unfortunately " +
    "Currently Overall In Both Each Every All Some Most Many Several One Two Three Four Five Six Seven Eight " +
    "Nine Ten First Second Third Next Then Finally Total Summary Price Prices Status Result Results Details " +
    "Answer Let Would Could Should Can Do Does Is Are Was Were Will Yesterday Today Tomorrow Good Great " +
    "Sorry Looks Seems Just Only Other Another Any No None Not Neither Nor Either Best Regards Key Highlights " +
    "Order Date Time Name Amount Location Source Sources Update Updated Temperature Weather Forecast Rating " +
    "Reviews Review Flight Flights Hotel Hotels Balance Account Ticket Tickets Customer Plan Cost Costs"
  ).split(" "),
);

function stem(w: string): string {
  const s = stemSuffix(w);
  return s.length > 3 && s.endsWith("e") ? s.slice(0, -1) : s;
}

function stemSuffix(w: string): string {
  if (w.length > 5 && w.endsWith("ies")) return `${w.slice(0, -3)}y`;
  if (w.length > 5 && w.endsWith("ing")) return w.slice(0, -3);
  if (w.length > 4 && w.endsWith("ed")) return w.slice(0, -2);
  if (w.length > 4 && w.endsWith("es")) return w.slice(0, -2);
  if (w.length > 3 && w.endsWith("s") && !w.endsWith("ss")) return w.slice(0, -1);
  if (w.length > 5 && w.endsWith("ly")) return w.slice(0, -2);
  return w;
}

const WORD = /[\p{L}][\p{L}\p{M}'’-]*/gu;
const SCALES: Record<string, number> = {
  k: 1e3,
  thousand: 1e3,
  m: 1e6,
  mm: 1e6,
  mn: 1e6,
  million: 1e6,
  millions: 1e6,
  b: 1e9,
  bn: 1e9,
  billion: 1e9,
  billions: 1e9,
  t: 1e12,
  tn: 1e12,
  trillion: 1e12,
};
/** A number: digits grouped by commas or thin spaces, a decimal part, then a scale word or %. */
const NUMBER =
  /(?<![\p{L}\p{N}_.,])(\d{1,3}(?:[,\u202f\u00a0]\d{3})+|\d+)(\.\d+)?(?:\s?(%|percent\b|per cent\b)|\s?(k|K|m|M|mm|mn|bn|b|B|t|tn|thousand|million|millions|billion|billions|trillion)(?![\p{L}]))?(?![\p{N}])/gu;

interface NumberClaim {
  start: number;
  end: number;
  mantissa: number;
  decimals: number;
  scale: number;
  percent: boolean;
}

function numbersIn(text: string): NumberClaim[] {
  const out: NumberClaim[] = [];
  for (const m of text.matchAll(NUMBER)) {
    const int = (m[1] ?? "").replace(/[,\u202f\u00a0]/g, "");
    const frac = m[2] ?? "";
    const scaleWord = m[4];
    let scale = 1;
    if (scaleWord !== undefined) {
      // "m"/"M" after a number is a million only when money or a count; "5 m" (metres) is ambiguous:
      // take it as a scale and also as plain (evidence is checked both ways below)
      scale = SCALES[scaleWord.toLowerCase()] ?? 1;
    }
    out.push({
      start: m.index,
      end: m.index + m[0].length,
      mantissa: Number(int + frac),
      decimals: frac.length > 0 ? frac.length - 1 : 0,
      scale,
      percent: m[3] !== undefined,
    });
  }
  return out;
}

const MONTHS = [
  "january",
  "february",
  "march",
  "april",
  "may",
  "june",
  "july",
  "august",
  "september",
  "october",
  "november",
  "december",
];
const DAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];

/** Month and weekday names for their abbreviations (and back): "Feb" and "February" are one word. */
function aliases(w: string): string[] {
  for (const name of [...MONTHS, ...DAYS]) {
    if (
      w === name ||
      (w.length >= 3 &&
        name.startsWith(w) &&
        (w.length === 3 || w === "sept" || w === "tues" || w === "thur" || w === "thurs"))
    ) {
      return [name, name.slice(0, 3)];
    }
  }
  return [];
}

/** What the evidence says, indexed for the checks. */
interface Evidence {
  values: number[];
  stems: Set<string>;
  words: Set<string>;
  lower: string;
}

/** The strings inside a JSON tool result, and its keys: `{"price_usd": 1299}` gives "price_usd 1299". */
function flattenJson(text: string): string {
  const t = text.trim();
  if (!(t.startsWith("{") || t.startsWith("["))) return "";
  try {
    const parts: string[] = [];
    const walk = (v: unknown) => {
      if (v === null || v === undefined) return;
      if (typeof v === "object") {
        for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
          if (!Array.isArray(v)) parts.push(k.replace(/[_-]/g, " "));
          walk(x);
        }
      } else parts.push(String(v));
    };
    walk(JSON.parse(t));
    return parts.join(" \n ");
  } catch {
    return "";
  }
}

function indexEvidence(texts: readonly string[]): Evidence {
  const all = texts.map((t) => `${t}\n${flattenJson(t)}`).join("\n\n");
  const values: number[] = [];
  for (const n of numbersIn(all)) {
    const v = n.mantissa * n.scale;
    values.push(v);
    if (n.scale !== 1) values.push(n.mantissa);
    if (n.percent) values.push(v / 100);
  }
  const words = new Set<string>();
  const stems = new Set<string>();
  // ISO dates and clock times give their parts (2024-03-05 → 2024, 3, 5; 14:30 → 14, 30), a date
  // its month's and weekday's names
  for (const m of all.matchAll(/\b\d{4}-\d{1,2}-\d{1,2}(?:T\d{1,2}:\d{2}(?::\d{2})?)?|\b\d{1,2}:\d{2}(?::\d{2})?\b/g)) {
    const parts = (m[0].match(/\d+/g) ?? []).map(Number);
    values.push(...parts);
    if (/^\d{4}-/.test(m[0])) {
      const [y, mo, d] = parts as [number, number, number];
      const month = MONTHS[mo - 1];
      if (month) for (const w of [month, month.slice(0, 3)]) words.add(w);
      const day = DAYS[new Date(Date.UTC(y, mo - 1, d)).getUTCDay()];
      if (day) for (const w of [day, day.slice(0, 3)]) words.add(w);
    }
  }
  // a JSON object's or array's numbers add up to a total an answer may give
  values.push(...jsonSums(texts));
  for (const m of all.toLowerCase().matchAll(WORD)) {
    for (const w of m[0].replace(/[’]/g, "'").split(/['-]/)) {
      if (!w) continue;
      words.add(w);
      stems.add(stem(w));
      for (const a of aliases(w)) words.add(a);
    }
  }
  return { values: [...new Set(values)], stems, words, lower: all.toLowerCase() };
}

/** The sum of the numbers directly inside each JSON object or array of the evidence. */
function jsonSums(texts: readonly string[]): number[] {
  const sums: number[] = [];
  const walk = (v: unknown) => {
    if (v === null || typeof v !== "object") return;
    const children = Object.values(v as Record<string, unknown>);
    const nums = children.filter((x): x is number => typeof x === "number" && Number.isFinite(x));
    if (nums.length >= 2) sums.push(nums.reduce((a, b) => a + b, 0));
    for (const c of children) walk(c);
  };
  for (const t of texts) {
    const s = t.trim();
    if (!(s.startsWith("{") || s.startsWith("["))) continue;
    try {
      walk(JSON.parse(s));
    } catch {
      // not JSON: no sums
    }
  }
  return sums;
}

function roundTo(x: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(x * f) / f;
}

/** Whether the evidence supports a number: the same value at the answer's precision, or a sum or difference of two. */
function numberSupported(n: NumberClaim, ev: Evidence, derived: boolean): boolean {
  const target = n.mantissa;
  const matches = (v: number) => {
    const scaled = v / n.scale;
    if (roundTo(scaled, n.decimals) === target) return true;
    if (n.percent && roundTo(v * 100, n.decimals) === target) return true;
    // a scale word read too eagerly ("5 m"): the plain number
    return n.scale !== 1 && roundTo(v, n.decimals) === target;
  };
  if (ev.values.some(matches)) return true;
  // arithmetic is credited only for figures of some precision: small whole numbers are too easily
  // a sum of two others by chance
  if (!derived || (n.decimals === 0 && n.mantissa * n.scale < 100)) return false;
  return derivedValues(ev).some(matches);
}

/** Sums and differences of two evidence numbers (of the first `MAX_DERIVED_FROM`), computed once per evidence. */
const MAX_DERIVED_FROM = 60;
const derivedCache = new WeakMap<Evidence, number[]>();

function derivedValues(ev: Evidence): number[] {
  let out = derivedCache.get(ev);
  if (out) return out;
  out = [];
  const vs = ev.values.slice(0, MAX_DERIVED_FROM);
  for (let i = 0; i < vs.length; i++) {
    for (let j = i + 1; j < vs.length; j++) {
      const a = vs[i] as number;
      const b = vs[j] as number;
      out.push(a + b, Math.abs(a - b));
    }
  }
  derivedCache.set(ev, out);
  return out;
}

interface Token {
  text: string;
  start: number;
  end: number;
  sentenceStart: boolean;
}

function tokens(answer: string): Token[] {
  const out: Token[] = [];
  let boundary = true;
  let last = 0;
  for (const m of answer.matchAll(WORD)) {
    const gap = answer.slice(last, m.index);
    if (/[.!?:;]\s|[\n•*#>|(]|^\s*[-–]\s|^\s*\d+[.)]\s/.test(gap) || /[.!?:]$/.test(gap)) boundary = true;
    out.push({ text: m[0], start: m.index, end: m.index + m[0].length, sentenceStart: boundary });
    boundary = false;
    last = m.index + m[0].length;
  }
  return out;
}

const CONNECTORS = new Set([
  "of",
  "de",
  "la",
  "le",
  "van",
  "von",
  "der",
  "den",
  "del",
  "da",
  "di",
  "and",
  "&",
  "the",
  "du",
]);

/** Units and currencies written in capitals: no names. */
const UNITS = new Set(
  "KB MB GB TB PB KBps Mbps Gbps USD EUR GBP JPY CHF CAD AUD UTC GMT CET PST EST AM PM ETA SKU ID OK FAQ PDF URL".split(
    " ",
  ),
);

function isCap(w: string): boolean {
  return /^\p{Lu}/u.test(w) && w.length >= 2 && !UNITS.has(w);
}

interface NameClaim {
  start: number;
  end: number;
  words: string[];
}

function namesIn(answer: string): NameClaim[] {
  const toks = tokens(answer);
  const out: NameClaim[] = [];
  let i = 0;
  while (i < toks.length) {
    const t = toks[i] as Token;
    if (!isCap(t.text)) {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < toks.length) {
      const u = toks[j] as Token;
      const between = answer.slice((toks[j - 1] as Token).end, u.start);
      if (!/^[ \t]?$|^ & $/.test(between) || u.sentenceStart) break;
      if (isCap(u.text)) j++;
      else if (CONNECTORS.has(u.text) && j + 1 < toks.length && isCap((toks[j + 1] as Token).text)) j += 2;
      else break;
    }
    let words = toks.slice(i, j).map((x) => x.text);
    let start = t.start;
    // a sentence's first word: drop it when it is a common word ("The Eiffel Tower" → "Eiffel Tower")
    if (t.sentenceStart && COMMON_CAPS.has(t.text)) {
      words = words.slice(1);
      start = (toks[i + 1] as Token | undefined)?.start ?? t.end;
    }
    // one capitalised word opening a sentence is as likely a verb ("Expect ...") as a name: not a claim
    // (the sentence's statement check still looks at it)
    if (words.length === 1 && t.sentenceStart && words[0] === t.text) words = [];
    const content = words.filter((w) => !CONNECTORS.has(w.toLowerCase()));
    if (content.length > 0) out.push({ start, end: (toks[j - 1] as Token).end, words: content });
    i = j;
  }
  return out;
}

function nameSupported(n: NameClaim, ev: Evidence): boolean {
  return n.words.every((w) => {
    const lower = w.toLowerCase().replace(/[’]/g, "'");
    const parts = lower.split(/['-]/).filter((p) => p.length > 0);
    return parts.every(
      (p) =>
        ev.words.has(p) ||
        ev.stems.has(stem(p)) ||
        aliases(p).some((a) => ev.words.has(a)) ||
        (p.length >= 4 && ev.lower.includes(p)),
    );
  });
}

interface Sentence {
  start: number;
  end: number;
  text: string;
}

function sentences(answer: string): Sentence[] {
  const out: Sentence[] = [];
  const re = /[^.!?\n]+(?:[.!?]+(?=\s|$)|\n|$)/g;
  for (const m of answer.matchAll(re)) {
    const raw = m[0];
    const lead = /^\s*/.exec(raw)?.[0].length ?? 0;
    const text = raw.trim();
    if (text) out.push({ start: m.index + lead, end: m.index + lead + text.length, text });
  }
  return out;
}

function contentWords(text: string): string[] {
  const out: string[] = [];
  for (const m of text.toLowerCase().matchAll(WORD)) {
    for (const w of m[0].replace(/[’]/g, "'").split(/['-]/)) {
      if (w.length >= 3 && !STOP.has(w)) out.push(w);
    }
  }
  return out;
}

export interface GroundednessOptions {
  name?: string;
  /**
   * A sentence is unsupported when fewer than this share of its content words (at least
   * `minStatementWords` of them) occur in the evidence. Default 0.5.
   */
  statementCoverage?: number;
  /** Sentences with fewer content words are not judged as statements. Default 4. */
  minStatementWords?: number;
  /**
   * Accept a number of 100 or more, or with decimals, that is the sum or difference of two evidence
   * numbers (of the evidence's first 60). Default true.
   */
  derivedNumbers?: boolean;
  /** Integers up to this are not checked (counts, list positions). Default 10. */
  ignoreIntegersUpTo?: number;
  /** Count the user's own messages as evidence. Default true. */
  inputAsEvidence?: boolean;
  /** Fail when there is no evidence at all (no tool result, context or input). Default false: pass, labelled `no_evidence`. */
  requireEvidence?: boolean;
  select?: ConversationSelect;
}

/** The evidence texts of a conversation. */
function evidenceTexts(c: Conversation, withInput: boolean): string[] {
  return [...c.toolResults, ...c.context, ...(withInput ? c.inputs : [])].filter((t) => t.trim() !== "");
}

/**
 * Groundedness of an answer against the task's own tool results and retrieved context: every
 * number (at the answer's precision, with thousands separators, scale words and percentages
 * understood; a sum or difference of two evidence numbers allowed), every name (capitalised words
 * and acronyms) and every statement (a sentence whose content words mostly occur in the evidence)
 * must be supported. Findings are the unsupported spans. Fast and deterministic; it matches words,
 * so a paraphrase with new words can fail and a false statement built from the evidence's own words
 * passes (see the README for measured precision and recall).
 */
export function groundednessCheck(options: GroundednessOptions = {}): Evaluator {
  const select = options.select ?? readConversation;
  const coverage = options.statementCoverage ?? 0.5;
  const minWords = options.minStatementWords ?? 4;
  const derived = options.derivedNumbers ?? true;
  const smallInts = options.ignoreIntegersUpTo ?? 10;
  return {
    name: options.name ?? "groundedness",
    evaluate(output): EvalResult {
      const c = select(output);
      const texts = evidenceTexts(c, options.inputAsEvidence ?? true);
      if (texts.length === 0) {
        return options.requireEvidence
          ? { pass: false, score: 0, label: "no_evidence", reason: "no tool result or context to ground the answer in" }
          : { pass: true, label: "no_evidence", reason: "no tool result or context to check the answer against" };
      }
      const ev = indexEvidence(texts);
      const answer = c.answer;
      const findings: Finding[] = [];
      let claims = 0;
      for (const n of numbersIn(answer)) {
        if (!n.percent && n.scale === 1 && n.decimals === 0 && n.mantissa <= smallInts) continue;
        // a list position ("1. ", "2) ") is no claim
        if (/(?:^|\n)\s*$/.test(answer.slice(0, n.start)) && /^[.)]\s/.test(answer.slice(n.end, n.end + 2))) continue;
        claims++;
        if (!numberSupported(n, ev, derived)) {
          findings.push({
            kind: "unsupported number",
            start: n.start,
            end: n.end,
            source: "answer",
            text: answer.slice(n.start, n.end),
          });
        }
      }
      for (const n of namesIn(answer)) {
        claims++;
        if (!nameSupported(n, ev)) {
          findings.push({
            kind: "unsupported name",
            start: n.start,
            end: n.end,
            source: "answer",
            text: answer.slice(n.start, n.end),
          });
        }
      }
      for (const s of sentences(answer)) {
        if (s.text.endsWith("?")) continue;
        const words = contentWords(s.text);
        if (words.length < minWords) continue;
        claims++;
        const supported = words.filter((w) => ev.words.has(w) || ev.stems.has(stem(w))).length;
        if (supported / words.length < coverage) {
          // already flagged for a number or name inside it: one finding is enough
          if (!findings.some((f) => f.start >= s.start && f.end <= s.end)) {
            findings.push({
              kind: "unsupported statement",
              start: s.start,
              end: s.end,
              source: "answer",
              text: s.text,
            });
          }
        }
      }
      findings.sort((a, b) => a.start - b.start);
      const score = claims === 0 ? 1 : Math.max(0, 1 - findings.length / claims);
      if (findings.length === 0) return { pass: true, score, label: "grounded" };
      const shown = findings
        .slice(0, 5)
        .map((f) => `"${(f.text ?? "").slice(0, 60)}"`)
        .join(", ");
      return {
        pass: false,
        score,
        label: "unsupported",
        reason: `${findings.length} claim${findings.length > 1 ? "s" : ""} in the answer no tool result or context supports: ${shown}`,
        findings,
      };
    },
  };
}

/**
 * The LLM-judge variant: gives `model` the task's tool results and context and the answer, asks for
 * a 0–1 rating of how fully the evidence supports the answer, and passes at `threshold` (default 0.7).
 * Catches paraphrase and reasoning the word match cannot; costs a model call, not deterministic.
 */
export function groundednessJudge(options: {
  model: JudgeModel;
  name?: string;
  threshold?: number;
  select?: ConversationSelect;
}): Evaluator {
  const threshold = options.threshold ?? 0.7;
  const select = options.select ?? readConversation;
  return {
    name: options.name ?? "groundedness_judge",
    async evaluate(output): Promise<EvalResult> {
      const c = select(output);
      const texts = evidenceTexts(c, true);
      const prompt = [
        "You are checking whether an AI agent's answer is grounded in what its tools returned.",
        "Rate from 0 (claims the evidence does not support) to 1 (every statement, number and name is supported).",
        "",
        ...texts.map((t, i) => `Evidence ${i + 1}:\n${t}\n`),
        "Answer:",
        c.answer,
        "",
        "Reply with a score from 0 to 1 on the first line, then one sentence naming the unsupported claims.",
      ].join("\n");
      const r = await judgeVerdict(options.model, prompt, threshold);
      return { ...r, label: r.pass ? "grounded" : "unsupported" };
    },
  };
}
