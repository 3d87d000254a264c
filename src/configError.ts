import type { z } from "zod";

/**
 * Turns the first zod issue into a TypeError or RangeError naming the field and its value. `root`
 * is the path of `input` itself (e.g. `configurable.agentwarden.limits`), empty for the options.
 */
export function configError(error: z.ZodError, input: unknown, root?: string): TypeError | RangeError {
  const issue = deepest(error.issues[0] as z.core.$ZodIssue);
  const base = root ? [root] : [];
  if (issue.code === "unrecognized_keys") {
    const keys = issue.keys.map((k) => [...base, ...issue.path, k].join(".")).join(", ");
    return new TypeError(`agentwarden: unknown option ${keys}`);
  }
  const field = [...base, ...issue.path].join(".") || "(options)";
  const value = issue.path.reduce<unknown>(
    (v, k) => (v !== null && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[k] : undefined),
    input,
  );
  const what = issue.code === "invalid_union" ? (unionExpected(issue) ?? issue.message) : issue.message;
  const message = `agentwarden: option ${field} is invalid: ${what} (got ${describe(value)})`;
  return issue.code === "too_small" || issue.code === "too_big" ? new RangeError(message) : new TypeError(message);
}

/**
 * What a union of values and kinds accepts (`onTrip`: "abort"|"finalize"|"ask"|a function), from
 * the first issue of each branch; undefined when a branch is not a plain value or kind.
 */
function unionExpected(issue: z.core.$ZodIssue): string | undefined {
  if (issue.code !== "invalid_union" || !Array.isArray(issue.errors)) return undefined;
  const accepted: string[] = [];
  for (const branch of issue.errors) {
    const first = branch[0];
    if (first?.code === "invalid_value") accepted.push(...first.values.map((v) => JSON.stringify(v)));
    else if (first?.code === "invalid_type")
      accepted.push(first.expected === "function" ? "a function" : `a ${first.expected}`);
    else if (first?.code === "custom") accepted.push(first.message.replace(/^expected /, ""));
    else return undefined;
  }
  return accepted.length > 0 ? `expected one of ${accepted.join("|")}` : undefined;
}

/** In a union (`false` or an options object), the issue of the branch that got furthest. */
function deepest(issue: z.core.$ZodIssue): z.core.$ZodIssue {
  if (issue.code !== "invalid_union" || !Array.isArray(issue.errors) || issue.errors.length === 0) return issue;
  let best: z.core.$ZodIssue | undefined;
  for (const branch of issue.errors) {
    const first = branch[0];
    if (first && (!best || first.path.length > best.path.length)) best = first;
  }
  if (!best || best.path.length === 0) return issue;
  return deepest({ ...best, path: [...issue.path, ...best.path] } as z.core.$ZodIssue);
}

/** @internal A value in an error message: strings quoted, objects by kind, never throwing. */
export function describe(value: unknown): string {
  if (typeof value === "function") return "a function";
  if (typeof value === "string") return JSON.stringify(value);
  if (value === null || typeof value !== "object") return String(value);
  if (Array.isArray(value)) return "an array";
  return "an object";
}
