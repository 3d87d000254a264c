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
    return r;
  }
  return { pass: false, reason: `evaluator returned ${typeof value}, expected a boolean or { pass }` };
}
