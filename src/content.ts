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
 * Turns a value into the text kept on a step: serialised, redacted, then cut to `maxLength`.
 * A redactor that throws yields a placeholder, never the unredacted text.
 */
export function captureText(
  value: unknown,
  field: ContentField,
  redact: Redactor,
  maxLength: number,
  onError: (error: unknown) => void,
): string {
  let text: string;
  try {
    text = redact(toJson(value), field);
    if (typeof text !== "string") throw new TypeError(`redact returned ${typeof text}, expected a string`);
  } catch (error) {
    onError(error);
    return "[REDACTION_FAILED]";
  }
  return text.length > maxLength ? `${text.slice(0, maxLength)}…[truncated]` : text;
}
