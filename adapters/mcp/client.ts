import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { context, propagation } from "@opentelemetry/api";
import {
  currentStep,
  type FailureClass,
  failureClass,
  type McpInfo,
  planRecovery,
  type RecoveryAction,
  type RecoveryConfig,
  retryTransient,
  runInStep,
  type Step,
  type StepError,
} from "../../src/index.js";

/** The parts of an MCP SDK `Client` (any copy, any transport) the instrumentation touches. */
interface ClientLike {
  request(request: McpRequest, resultSchema: unknown, options?: RequestOptions): Promise<unknown>;
  _requestMessageId?: number;
  transport?: { constructor?: { name?: string }; sessionId?: string; protocolVersion?: unknown };
}

interface McpRequest {
  method: string;
  params?: { name?: unknown; arguments?: unknown; _meta?: Record<string, unknown> } & Record<string, unknown>;
}

interface RequestOptions {
  signal?: AbortSignal;
}

const patched = Symbol.for("agentwarden.mcp.patched");
/**
 * Protocol versions learnt from `initialize` (or `server/discover`), by transport: the connection
 * they belong to. Keyed by the transport, not the Client, because `@langchain/mcp-adapters` hands
 * its tools a `Proxy` of the Client (a different `this`) over the same transport.
 */
const versions = new WeakMap<object, string>();
/** Where the 2026-07-28 MCP revision carries the protocol version on every request (no `initialize`). */
export const MCP_META_PROTOCOL_VERSION = "io.modelcontextprotocol/protocolVersion";
/** Methods whose params carry a resource `uri` (`mcp.resource.uri`). */
const RESOURCE_METHODS = new Set(["resources/read", "resources/subscribe", "resources/unsubscribe"]);

/**
 * Instruments MCP clients at their single request funnel (`Protocol.request`, under `callTool`,
 * `listTools`, `readResource` and every other method), for the given Client class — by default the
 * ESM build of `@modelcontextprotocol/sdk` this package resolves, the one `@langchain/mcp-adapters`
 * loads. Idempotent. Inside a task each request is a step; `traceparent`, `tracestate` and
 * `baggage` go into `params._meta` always.
 */
export function instrumentMcp(ClientClass: { prototype: object } = Client): void {
  const proto = ClientClass.prototype as Record<PropertyKey, unknown>;
  const original = proto.request as ClientLike["request"] | undefined;
  if (typeof original !== "function" || (original as unknown as Record<symbol, unknown>)[patched]) return;
  const wrapped = wrapRequest(original);
  Object.defineProperty(wrapped, patched, { value: true });
  proto.request = wrapped;
}

/** Instruments one client instance (of any copy of the SDK). Returns it. */
export function instrumentMcpClient<C extends object>(client: C): C {
  const c = client as unknown as ClientLike;
  if (typeof c.request !== "function")
    throw new TypeError("agentwarden: instrumentMcpClient() expects an MCP SDK Client");
  if ((c.request as unknown as Record<symbol, unknown>)[patched]) return client;
  const wrapped = wrapRequest(c.request);
  Object.defineProperty(wrapped, patched, { value: true });
  c.request = wrapped;
  return client;
}

function wrapRequest(original: ClientLike["request"]): ClientLike["request"] {
  return function wardenMcpRequest(this: ClientLike, request, resultSchema, options) {
    const method = typeof request?.method === "string" ? request.method : "unknown";
    const parent = currentStep();
    if (method === "initialize" || method === "server/discover")
      return rememberVersion(this, original.call(this, request, resultSchema, options));
    if (!parent) return original.call(this, withContext(request), resultSchema, options);
    const info: McpInfo = { method, ownSpan: true };
    if (typeof this._requestMessageId === "number") info.requestId = this._requestMessageId;
    const version = protocolVersionOf(this, request);
    if (version !== undefined) info.protocolVersion = version;
    const transport = transportOf(this);
    if (transport !== undefined) info.transport = transport;
    const sessionId = this.transport?.sessionId;
    if (typeof sessionId === "string") info.sessionId = sessionId;
    const uri = request.params?.uri;
    if (RESOURCE_METHODS.has(method) && typeof uri === "string") info.resourceUri = uri;
    const promptName =
      method === "prompts/get" && typeof request.params?.name === "string" ? request.params.name : undefined;
    if (promptName !== undefined) info.promptName = promptName;
    const toolName =
      method === "tools/call" && typeof request.params?.name === "string" ? request.params.name : undefined;

    // Called from inside a LangChain tool (e.g. @langchain/mcp-adapters): one span, the tool's.
    if (parent.kind === "tool" && toolName !== undefined && parent.tool && !parent.tool.mcp) {
      const mcp: McpInfo = { ...info, ownSpan: false };
      parent.tool.mcp = mcp;
      parent.tool.type = "extension";
      // The adapter turns an isError result into a thrown ToolException: remember what it was, so the
      // tool step's error.type is `tool_error` however the failure reaches it.
      return original.call(this, withContext(request), resultSchema, options).then(
        (result) => {
          if ((result as { isError?: unknown } | null)?.isError === true) mcp.toolError = true;
          return result;
        },
        (error: unknown) => {
          const code = rpcCode(error);
          if (code !== undefined) mcp.statusCode = code;
          throw error;
        },
      );
    }
    return standalone(this, original, parent, info, toolName, request, resultSchema, options);
  };
}

/** A request made directly from agent code: its own step and CLIENT span, checked like any tool call. */
async function standalone(
  client: ClientLike,
  original: ClientLike["request"],
  parent: Step,
  info: McpInfo,
  toolName: string | undefined,
  request: McpRequest,
  resultSchema: unknown,
  options: RequestOptions | undefined,
): Promise<unknown> {
  const send = () => original.call(client, withContext(request), resultSchema, options);
  if (toolName === undefined) {
    const run = parent.run;
    const step = run.start("mcp", info.method, parent, (s) => {
      s.mcp = info;
    });
    try {
      const result = await run.hub.activate(step, send);
      run.end(step, "ok");
      return result;
    } catch (error) {
      fail(step, info, error);
      throw error;
    }
  }
  const call: ToolCall = { name: toolName, args: request.params?.arguments, info, send, signal: options?.signal };
  // A fallback's own MCP call runs inside the recovery step that called it: it stands in for that tool.
  const r = parent.kind === "recovery" ? parent.recovery : undefined;
  const recovers = r?.action === "fallback" ? r.target : undefined;
  const outcome = await attempt(call, parent, recovers);
  if (outcome.kind !== "failed") return outcome.result;
  const recovery = parent.run.warden.options.recovery;
  if (!recovery || outcome.cls === "control" || recovers !== undefined) return settle(outcome);
  return recover(call, parent, outcome, recovery);
}

/** One `tools/call` made from agent code. */
interface ToolCall {
  name: string;
  args: unknown;
  info: McpInfo;
  send: () => Promise<unknown>;
  signal: AbortSignal | undefined;
}

type Outcome =
  | { kind: "ok"; result: unknown }
  | { kind: "failed"; step: Step; error: StepError; cls: FailureClass; result?: unknown; thrown?: unknown };
type Failed = Extract<Outcome, { kind: "failed" }>;

/** Sends the call once as a `tool` step: the task's breakers first, then the tool's circuit breaker. */
async function attempt(call: ToolCall, parent: Step, recovers?: string, injected = false): Promise<Outcome> {
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
function fail(step: Step, info: McpInfo, error: unknown): StepError {
  const code = rpcCode(error);
  if (code !== undefined) info.statusCode = code;
  const failed = { type: mcpErrorType(error), message: error instanceof Error ? error.message : String(error) };
  step.run.end(step, "error", failed);
  return failed;
}

/** A failure nobody recovered: thrown again, or its isError result returned, as the server answered. */
function settle(failure: Failed): unknown {
  if (failure.thrown !== undefined) throw failure.thrown;
  return failure.result;
}

/**
 * Carries out the core's recovery plan for a failed call, as the LangGraph tool funnel does:
 * retries of a transient failure, then the tool's fallback (called with the same arguments). A
 * direct call's result goes to agent code, not to a model, so it is never answered with text (the
 * handler, the corrective message), as the tool funnel answers only a model's tool call.
 */
async function recover(call: ToolCall, parent: Step, failure: Failed, recovery: RecoveryConfig): Promise<unknown> {
  const run = parent.run;
  let last = failure;
  let attempts = 1;
  const open = (action: RecoveryAction) => {
    last.step.recoveredBy = action;
    return run.start("recovery", call.name, parent, (s) => {
      s.recovery = { trigger: "tool_error", cause: last.cls, action, target: call.name };
    });
  };
  for (const decision of planRecovery({ tool: call.name, failureClass: last.cls }, recovery, false)) {
    switch (decision.action) {
      case "retry": {
        const step = open("retry");
        let outcome: Outcome;
        try {
          outcome = await retryTransient(
            decision.retry,
            () => {
              attempts++;
              return run.hub.activate(step, () => attempt(call, step, undefined, true));
            },
            (o) => o.kind === "failed" && o.cls === "transient",
            call.signal,
          );
        } catch (error) {
          finish(step, "error", error);
          throw run.guard?.tripError ?? error;
        }
        if (outcome.kind !== "failed") {
          finish(step, "ok");
          return outcome.result;
        }
        last = outcome;
        finish(step, "error");
        if (last.cls === "control") return settle(last);
        break;
      }
      case "fallback": {
        const fallback = decision.tool as { invoke?: (input: unknown) => Promise<unknown> };
        if (typeof fallback.invoke !== "function") break;
        const invoke = fallback.invoke.bind(fallback);
        const step = open("fallback");
        try {
          const output = await runInStep(step, () => invoke(call.args));
          const result = asResult(output);
          if (!result.isError) {
            finish(step, "ok");
            return result;
          }
          finish(step, "error");
        } catch (error) {
          finish(step, "error", error);
          if (run.guard?.tripError) throw run.guard.tripError;
        }
        break;
      }
      case "handler":
      case "corrective_message":
        break; // text is for a model's tool call (see above)
    }
  }
  return settle(last);

  function finish(step: Step, status: "ok" | "error", error?: unknown): void {
    if (step.recovery) step.recovery.attempts = attempts;
    run.end(
      step,
      status,
      status === "error"
        ? { type: "recovery_failed", message: error instanceof Error ? error.message : last.error.message }
        : undefined,
    );
  }
}

/** A `tools/call` result for text agentwarden answers a call with (a trip's reason, a loop hint). */
function errorResult(text: string): { content: Array<{ type: "text"; text: string }>; isError: true } {
  return { content: [{ type: "text", text }], isError: true };
}

/** A fallback's output as a `tools/call` result: a result as it is, a ToolMessage or text as text content. */
function asResult(output: unknown): { content: unknown; isError?: boolean } {
  const o = output as { content?: unknown; isError?: unknown; status?: unknown } | null;
  if (o !== null && typeof o === "object" && Array.isArray(o.content))
    return { ...(o as object), content: o.content, isError: o.isError === true || o.status === "error" };
  const content = o !== null && typeof o === "object" && "content" in o ? o.content : output;
  const text = typeof content === "string" ? content : JSON.stringify(content);
  return { content: [{ type: "text", text }], isError: o !== null && typeof o === "object" && o.status === "error" };
}

/** The request with the active trace context in `params._meta` (MCP SEP-414: unprefixed keys). */
function withContext(request: McpRequest): McpRequest {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  if (Object.keys(carrier).length === 0) return request;
  return { ...request, params: { ...request.params, _meta: { ...request.params?._meta, ...carrier } } };
}

async function rememberVersion(client: ClientLike, pending: Promise<unknown>): Promise<unknown> {
  const result = await pending;
  const r = result as { protocolVersion?: unknown; supportedVersions?: unknown } | null;
  const version = r?.protocolVersion;
  if (typeof version === "string") versions.set(client.transport ?? client, version);
  return result;
}

/**
 * The protocol version of a request, from where the current MCP revision carries it: the request's
 * own `_meta` (2026-07-28, no `initialize`), the transport's negotiated `MCP-Protocol-Version`
 * header, then what `initialize` answered on this connection (revisions before 2026-07-28).
 */
function protocolVersionOf(client: ClientLike, request: McpRequest): string | undefined {
  const meta = request.params?._meta?.[MCP_META_PROTOCOL_VERSION];
  if (typeof meta === "string" && meta.length > 0) return meta;
  const header = client.transport?.protocolVersion;
  if (typeof header === "string" && header.length > 0) return header;
  return versions.get(client.transport ?? client) ?? versions.get(client);
}

/** The JSON-RPC error code of a failed request (an McpError), as `rpc.response.status_code` wants it. */
function rpcCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "number" && Number.isInteger(code) ? String(code) : undefined;
}

function transportOf(client: ClientLike): string | undefined {
  const name = client.transport?.constructor?.name ?? "";
  if (/stdio/i.test(name)) return "pipe";
  if (/http|sse|websocket/i.test(name)) return "tcp";
  return undefined;
}

/** `error.type` of a failed request: the JSON-RPC error code of an McpError, else the error class. */
function mcpErrorType(error: unknown): string {
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
