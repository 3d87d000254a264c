/**
 * One span of text an evaluator found: an unsupported claim, an injection marker, a secret. `start`
 * and `end` are UTF-16 offsets (`text.slice(start, end)`) into the text named by `source`, so a
 * guard can redact exactly these spans.
 */
export interface Finding {
  /** What was found (`e-mail address`, `API key`, `instruction override`, `unsupported number`, ...). */
  kind: string;
  start: number;
  end: number;
  /**
   * Which text the offsets refer to: `answer` (the answer checked, by default the last assistant
   * message), `input:<i>` (the i-th user message), `tool_result:<i>` (the i-th tool result),
   * `context:<i>` (the i-th retrieved document); all counted from 0.
   */
  source: string;
  /** The matched text, for display; the built-in PII check leaves it out (its findings are secrets). */
  text?: string;
}

/** The verdict of one evaluator on one output. */
export interface EvalResult {
  pass: boolean;
  /** A score, when the evaluator has one (a judge's 0–1 rating). */
  score?: number;
  /** Why it failed (or passed): shown to the model in a correction, and on the eval span. */
  reason?: string;
  /**
   * The exact text the evaluator objected to (a credential, an injected instruction), when it can
   * say: a `redact` guard replaces each occurrence; without it a redact guard withholds the whole text.
   */
  matches?: string[];
  /** A short verdict label (`grounded`, `unsupported`, `injection`, `pii`, `truncated`, ...). */
  label?: string;
  /** The spans that made the verdict, when the evaluator locates them (built-in evaluators do). */
  findings?: Finding[];
}

/**
 * Checks an output. Returning `true`/`false` is shorthand for `{ pass }`. An evaluator that throws
 * is recorded as an eval error: a failure, never a pass.
 */
export interface Evaluator<O = unknown> {
  /** Low-cardinality name (`answer_schema`, `has_citation`). */
  name: string;
  evaluate(output: O): boolean | EvalResult | Promise<boolean | EvalResult>;
}

function isFinding(f: unknown): f is Finding {
  const x = f as Finding | null;
  return (
    typeof x === "object" &&
    x !== null &&
    typeof x.kind === "string" &&
    typeof x.source === "string" &&
    Number.isInteger(x.start) &&
    Number.isInteger(x.end) &&
    x.start >= 0 &&
    x.end >= x.start
  );
}

/** Normalises what an evaluator returned; anything but a boolean or `{ pass: boolean }` is a failure. */
export function toEvalResult(value: unknown): EvalResult {
  if (typeof value === "boolean") return { pass: value };
  if (typeof value === "object" && value !== null && typeof (value as EvalResult).pass === "boolean") {
    const v = value as EvalResult;
    const r: EvalResult = { pass: v.pass };
    if (typeof v.score === "number" && Number.isFinite(v.score)) r.score = v.score;
    if (typeof v.reason === "string") r.reason = v.reason;
    if (Array.isArray(v.matches)) {
      const matches = v.matches.filter((m): m is string => typeof m === "string" && m.length > 0);
      if (matches.length > 0) r.matches = matches;
    }
    if (typeof v.label === "string") r.label = v.label;
    if (Array.isArray(v.findings)) {
      const findings = v.findings.filter(isFinding).map((f) => {
        const out: Finding = { kind: f.kind, start: f.start, end: f.end, source: f.source };
        if (typeof f.text === "string") out.text = f.text;
        return out;
      });
      if (findings.length > 0) r.findings = findings;
    }
    return r;
  }
  return { pass: false, reason: `evaluator returned ${typeof value}, expected a boolean or { pass }` };
}
