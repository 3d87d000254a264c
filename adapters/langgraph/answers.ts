/*
 * What an output guard checks in a model's output. A plain answer is its text. An answer can also
 * be given as a tool call — structured output: createAgent's `responseFormat: toolStrategy(…)`,
 * `withStructuredOutput`'s function calling, `bindTools` with a tool-call parser — whose arguments
 * are the answer; no tool runs it. So a tool call naming a tool that no ToolNode of a wrapped graph
 * runs (noted at wrap time) is an answer, and an output whose tool calls are all such is a final
 * answer. Where an output's tool calls are checked (a structured answer; every output with
 * `finalOnly: false`), the text checked is the content's, then each call's arguments as JSON, a line
 * each; a redaction is carried back into the content and the arguments.
 */

/** Names of the tools a ToolNode of a wrapped graph runs. */
const toolNodeTools = new Set<string>();

/** Notes a tool of a ToolNode (called for each one when a graph is wrapped). */
export function noteToolNodeTool(tool: unknown): void {
  const name = (tool as { name?: unknown } | null)?.name;
  if (typeof name === "string") toolNodeTools.add(name);
}

export interface ToolCall {
  name?: unknown;
  args?: unknown;
  id?: unknown;
  type?: unknown;
}

/** Tool calls that are all an answer (name tools no ToolNode runs): the output is a structured final answer. */
export function isStructuredAnswer(calls: readonly unknown[]): boolean {
  return (
    calls.length > 0 &&
    calls.every((c) => {
      const name = (c as ToolCall | null)?.name;
      return typeof name === "string" && !toolNodeTools.has(name);
    })
  );
}

/** The text checked: the content's text, then each call's arguments as JSON (no raw line break inside), a line each. */
export function answerText(content: string, calls: readonly unknown[]): string {
  const lines = content === "" ? [] : [content];
  for (const c of calls) lines.push(json((c as ToolCall | null)?.args ?? {}));
  return lines.join("\n");
}

/**
 * A redaction of `answerText(content, calls)` carried back: the redacted content and calls. The
 * last `calls.length` lines are the arguments: each must read back as a JSON object; where they do
 * not (a match that crossed a line or a quote, a whole text withheld), every string of the content
 * and the arguments is withheld (`mark`).
 */
export function redactAnswer(
  content: string,
  calls: readonly unknown[],
  redacted: string,
  mark: string,
): { content: string; calls: ToolCall[] } {
  const lines = redacted.split("\n");
  const k = calls.length;
  const contentLines = lines.length - k;
  if (content === "" ? contentLines === 0 : contentLines >= 1) {
    const args: unknown[] = [];
    for (const line of lines.slice(contentLines)) {
      const parsed = parse(line);
      if (parsed === undefined) break;
      args.push(parsed);
    }
    if (args.length === k)
      return {
        content: content === "" ? "" : lines.slice(0, contentLines).join("\n"),
        calls: calls.map((c, i) => ({ ...(c as ToolCall), args: args[i] })),
      };
  }
  return {
    content: content === "" ? "" : mark,
    calls: calls.map((c) => ({ ...(c as ToolCall), args: withheld((c as ToolCall | null)?.args, mark) })),
  };
}

/**
 * A copy of a model's message with new content and tool calls (same class, id and metadata; a
 * chunk's tool call chunks made from the calls; the provider's raw tool calls in
 * `additional_kwargs` left out, as they would still hold the old arguments).
 */
export function withAnswer(message: unknown, content: string, calls: ToolCall[]): unknown {
  const m = message as Record<string, unknown>;
  const Ctor = (m.constructor ?? Object) as new (fields: Record<string, unknown>) => unknown;
  const fields: Record<string, unknown> = { content };
  for (const key of ["id", "name", "usage_metadata", "response_metadata", "invalid_tool_calls"]) {
    if (m[key] !== undefined) fields[key] = m[key];
  }
  const extra = m.additional_kwargs as Record<string, unknown> | undefined;
  if (extra !== undefined) {
    const { tool_calls: _calls, function_call: _call, ...rest } = extra;
    fields.additional_kwargs = rest;
  }
  if (Array.isArray(m.tool_call_chunks))
    fields.tool_call_chunks = calls.map((c, index) => ({
      name: c.name,
      args: json(c.args ?? {}),
      id: c.id,
      index,
      type: "tool_call_chunk",
    }));
  else fields.tool_calls = calls;
  try {
    return new Ctor(fields);
  } catch {
    return { ...m, content, tool_calls: calls };
  }
}

function parse(line: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(line);
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Every string in a value replaced by `mark` (keys, numbers and the shape kept). */
function withheld(value: unknown, mark: string, depth = 0): unknown {
  if (typeof value === "string") return mark;
  if (typeof value !== "object" || value === null) return value;
  if (depth > 32) return mark;
  if (Array.isArray(value)) return value.map((v) => withheld(v, mark, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = withheld(v, mark, depth + 1);
  return out;
}

function json(value: unknown): string {
  try {
    return JSON.stringify(value) ?? "{}";
  } catch {
    return "{}";
  }
}
