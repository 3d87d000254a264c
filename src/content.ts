import type { ContentField, Redactor } from "./redact.js";
import { boundedName, MAX_NAME_LENGTH } from "./tables.js";

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

/**
 * A name from the other side that may carry a secret (an MCP resource URI: `postgres://user:pw@…`,
 * `?api_key=…`), recorded whether or not content is captured: redacted, then cut like every name
 * (`boundedName`). Only its first `MAX_NAME_LENGTH + REDACTION_MARGIN` characters are redacted: a
 * secret that starts past the margin lies past the cut. A redactor that throws yields
 * `[REDACTION_FAILED]` and is reported.
 */
export function redactedName(
  value: string,
  field: ContentField,
  redact: Redactor,
  onError: (error: unknown) => void,
): string {
  try {
    const limit = MAX_NAME_LENGTH + REDACTION_MARGIN;
    const text = redact(value.length > limit ? value.slice(0, limit) : value, field);
    if (typeof text !== "string") throw new TypeError(`redact returned ${typeof text}, expected a string`);
    return boundedName(text);
  } catch (error) {
    onError(error);
    return "[REDACTION_FAILED]";
  }
}
