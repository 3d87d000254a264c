/**
 * Which recorded field a value comes from, so a redaction hook can treat fields differently.
 *
 * Captured only with `captureContent: true`:
 * - `gen_ai.input.messages`: a model call's request messages; also the corrective message of an
 *   eval-driven correction;
 * - `gen_ai.output.messages`: a model call's response; also the text a recovery gave the model
 *   (a corrective message, or what `onToolError` returned);
 * - `gen_ai.tool.call.arguments`, `gen_ai.tool.call.result`: a tool call's arguments and result.
 *
 * Recorded always, whatever `captureContent` says, and so always redacted:
 * - `error.message`: the message of every failed step (the span's status message, the run store,
 *   the dashboard), the reason of a breaker trip (its `agentwarden.breaker.trip` event), and the
 *   error detail a corrective message shows the model;
 * - `gen_ai.evaluation.explanation`: an evaluator's reason, on its eval span.
 */
export type ContentField =
  | "gen_ai.input.messages"
  | "gen_ai.output.messages"
  | "gen_ai.system_instructions"
  | "gen_ai.tool.definitions"
  | "gen_ai.tool.call.arguments"
  | "gen_ai.tool.call.result"
  | "error.message"
  | "gen_ai.evaluation.explanation";

/**
 * Runs on every recorded text from the agent (see `ContentField`) before it is stored on a step or
 * a span. Return the text to keep.
 */
export type Redactor = (text: string, field: ContentField) => string;

const patterns: ReadonlyArray<readonly [RegExp, string, string?]> = [
  // e-mail addresses (repeats bounded to RFC 5321's lengths: unbounded ones made a long run of
  // letters quadratic, seconds for 40 KB; now linear; and skipped where there is no "@")
  [/[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}/g, "[REDACTED_EMAIL]", "@"],
  // API keys and tokens of the common providers and shapes (sk-..., sk-ant-..., AKIA..., ghp_..., xox?-..., AIza...)
  [
    /\b(?:sk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}|xox[abpr]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35})\b/g,
    "[REDACTED_KEY]",
  ],
  // bearer tokens
  [/\b(Bearer\s+)[A-Za-z0-9._~+/=-]{16,}/gi, "$1[REDACTED_TOKEN]"],
  // payment card numbers: 13 to 19 digits, optionally grouped by spaces or dashes
  [/\b(?:\d[ -]?){12,18}\d\b/g, "[REDACTED_NUMBER]"],
];

/**
 * The default redactor: masks e-mail addresses, API keys and bearer tokens of common shapes, and
 * card-like digit runs. Extend it with `redactWith([...patterns])`.
 */
export const redactSecrets: Redactor = function redactSecrets(text) {
  let out = text;
  for (const [pattern, replacement, needs] of patterns) {
    if (needs === undefined || out.includes(needs)) out = out.replace(pattern, replacement);
  }
  return out;
};

/** A redactor that applies `redactSecrets` and then the given patterns (each match replaced). */
export function redactWith(extra: ReadonlyArray<RegExp>, replacement = "[REDACTED]"): Redactor {
  return function redactWithPatterns(text, field) {
    let out = redactSecrets(text, field);
    for (const pattern of extra) {
      const global = pattern.global ? pattern : new RegExp(pattern.source, `${pattern.flags}g`);
      out = out.replace(global, replacement);
    }
    return out;
  };
}
