import type { ContentField, Redactor } from "./redact.js";

/**
 * Serialises a captured value to a JSON string that never throws: cycles become "[Circular]",
 * bigints strings, functions are dropped. Strings are kept as they are.
 */
export function toJson(value: unknown): string {
  if (typeof value === "string") return value;
  const seen = new WeakSet<object>();
  try {
    return (
      JSON.stringify(value, (_key, v: unknown) => {
        if (typeof v === "bigint") return v.toString();
        if (typeof v === "object" && v !== null) {
          if (seen.has(v)) return "[Circular]";
          seen.add(v);
        }
        return v;
      }) ?? ""
    );
  } catch {
    return "[Unserializable]";
  }
}

/**
 * Text beyond `maxLength` that the redactor still sees, so that a secret straddling the cut is
 * matched whole and redacted, not left as an unmatched fragment.
 */
export const REDACTION_MARGIN = 4_096;

/**
 * Turns a value into the text kept on a step: serialised, redacted, then cut to `maxLength`.
 * Only what can be kept (plus `REDACTION_MARGIN`) is redacted: megabytes of payload cost the
 * redactor no more than a cut value does. A redactor that throws yields a placeholder, never the
 * unredacted text.
 */
export function captureText(
  value: unknown,
  field: ContentField,
  redact: Redactor,
  maxLength: number,
  onError: (error: unknown) => void,
): string {
  let text: string;
  let cut = false;
  try {
    text = toJson(value);
    if (text.length > maxLength + REDACTION_MARGIN) {
      text = text.slice(0, maxLength + REDACTION_MARGIN);
      cut = true;
    }
    text = redact(text, field);
    if (typeof text !== "string") throw new TypeError(`redact returned ${typeof text}, expected a string`);
  } catch (error) {
    onError(error);
    return "[REDACTION_FAILED]";
  }
  // When the input was cut, its last REDACTION_MARGIN characters may end in an unmatched fragment
  // of a secret, and redactions before it may have pulled it left: it is never kept.
  if (cut) return `${text.slice(0, Math.max(0, Math.min(maxLength, text.length - REDACTION_MARGIN)))}…[truncated]`;
  return text.length > maxLength ? `${text.slice(0, maxLength)}…[truncated]` : text;
}
