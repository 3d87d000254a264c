import type { ToolErrorContext } from "./ToolFailure.js";

/**
 * What the model reads after a failed call it can fix: the tool, the error's class and its first
 * lines (stack traces dropped, secrets redacted by `redact`), the expected arguments (`schema`,
 * JSON Schema text, when the adapter knows it), and what to do.
 */
export function correctiveText(
  failure: Omit<ToolErrorContext, "args">,
  schema: string | undefined,
  redact: (text: string) => string,
): string {
  const detail = sanitize(failure.error.message, redact);
  const lines = [`Tool "${failure.tool}" failed (${describeClass(failure)}): ${detail}`];
  if (failure.failureClass === "transient") {
    const n = failure.attempts;
    lines.push(
      `It failed ${n} time${n === 1 ? "" : "s"}; the service is unavailable for now. Continue without it, or try a different approach.`,
    );
  } else {
    if (schema) lines.push(`Expected arguments (JSON Schema): ${schema}`);
    lines.push(
      `Change the arguments to match what the tool expects and call ${failure.tool} again; repeating the same call will fail the same way.`,
    );
  }
  return lines.join("\n");
}

function describeClass(failure: Omit<ToolErrorContext, "args">): string {
  if (failure.failureClass === "transient") return "a transient error";
  const t = failure.error.type;
  if (/ToolInputParsing|ZodError|schema/i.test(t) || /did not match expected schema/i.test(failure.error.message))
    return "invalid arguments";
  return "a permanent error";
}

/** An error message's first lines for the model: stack frames dropped, redacted, cut to 400 characters. */
function sanitize(message: string, redact: (text: string) => string): string {
  const lines = message
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !/^at\s/.test(l) && !/^\s*Troubleshooting URL/i.test(l));
  const text = redact(lines.join("; "));
  return text.length > 400 ? `${text.slice(0, 400)}…` : text;
}
