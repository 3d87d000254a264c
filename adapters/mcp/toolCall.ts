import { type FailureClass, failureClass, type McpInfo, type Step, type StepError } from "../../src/index.js";

/** One `tools/call` made from agent code. */
export interface ToolCall {
  name: string;
  args: unknown;
  info: McpInfo;
  send: () => Promise<unknown>;
  signal: AbortSignal | undefined;
}

export type Outcome =
  | { kind: "ok"; result: unknown }
  | { kind: "failed"; step: Step; error: StepError; cls: FailureClass; result?: unknown; thrown?: unknown };
export type Failed = Extract<Outcome, { kind: "failed" }>;

/** Sends the call once as a `tool` step: the task's breakers first, then the tool's circuit breaker. */
export async function attempt(call: ToolCall, parent: Step, recovers?: string, injected = false): Promise<Outcome> {
  const run = parent.run;
  // Each attempt is its own request: a retry's step carries its own MCP facts.
  const info: McpInfo = attemptInfo(call.info, injected);
  const step = run.start("tool", call.name, parent, (s) => {
    s.tool = { name: call.name, type: "extension", mcp: info };
    if (recovers !== undefined) s.tool.recovers = recovers;
    if (recovers !== undefined || injected) s.injected = true;
    const cost = run.warden.options.toolCosts[call.name];
    if (cost !== undefined) s.tool.costUsd = cost;
    const args = run.warden.capture("gen_ai.tool.call.arguments", call.args);
    if (args !== undefined) s.tool.arguments = args;
  });
  const decision = run.guard?.beforeTool(step, call.name, call.args);
  if (decision?.kind === "abort") {
    run.end(step, "error", { type: decision.error.code, message: decision.error.message });
    throw decision.error;
  }
  if (decision) {
    run.end(step, "cancelled");
    const text = decision.kind === "hint" ? decision.message : `agentwarden stopped this task: ${decision.trip.reason}`;
    return { kind: "ok", result: errorResult(text) };
  }
  const breakers = run.warden.toolBreakers;
  let result: unknown;
  try {
    result = await run.hub.activate(step, () => (breakers ? breakers.execute(call.name, call.send) : call.send()));
  } catch (error) {
    const failed = fail(step, info, error);
    return { kind: "failed", step, error: failed, cls: failureClass(error), thrown: error };
  }
  const isError = (result as { isError?: unknown } | null)?.isError === true;
  if (step.tool) {
    const captured = run.warden.capture("gen_ai.tool.call.result", (result as { content?: unknown } | null)?.content);
    if (captured !== undefined) step.tool.result = captured;
  }
  if (!isError) {
    run.end(step, "ok");
    return { kind: "ok", result };
  }
  const error: StepError = { type: "tool_error", message: textOf(result) };
  run.end(step, "error", error);
  return { kind: "failed", step, error, cls: failureClass(error.message), result };
}

function attemptInfo(info: McpInfo, injected: boolean): McpInfo {
  if (!injected) return info;
  const { requestId: _, ...rest } = info;
  return { ...rest };
}

/** Ends a step whose request threw: `error.type` and `rpc.response.status_code` from the JSON-RPC error. */
export function fail(step: Step, info: McpInfo, error: unknown): StepError {
  const code = rpcCode(error);
  if (code !== undefined) info.statusCode = code;
  const failed = { type: mcpErrorType(error), message: error instanceof Error ? error.message : String(error) };
  step.run.end(step, "error", failed);
  return failed;
}

/** A failure nobody recovered: thrown again, or its isError result returned, as the server answered. */
export function settle(failure: Failed): unknown {
  if (failure.thrown !== undefined) throw failure.thrown;
  return failure.result;
}

/** A `tools/call` result for text agentwarden answers a call with (a trip's reason, a loop hint). */
export function errorResult(text: string): { content: Array<{ type: "text"; text: string }>; isError: true } {
  return { content: [{ type: "text", text }], isError: true };
}

/** The JSON-RPC error code of a failed request (an McpError), as `rpc.response.status_code` wants it. */
export function rpcCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "number" && Number.isInteger(code) ? String(code) : undefined;
}

/** `error.type` of a failed request: the JSON-RPC error code of an McpError, else the error class. */
export function mcpErrorType(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "number") return String(code);
  return error instanceof Error && error.name ? error.name : "_OTHER";
}

function textOf(result: unknown): string {
  const content = (result as { content?: unknown } | null)?.content;
  if (!Array.isArray(content)) return "tool returned an error";
  return (
    content.map((c) => ((c as { text?: unknown })?.text as string | undefined) ?? "").join("\n") ||
    "tool returned an error"
  );
}
