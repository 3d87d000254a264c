import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { context, propagation } from "@opentelemetry/api";
import { redactedName } from "../../src/content.js";
import { boundedName, currentStep, type McpInfo, type Step } from "../../src/index.js";
import { recover } from "./recover.js";
import { attempt, fail, rpcCode, settle, type ToolCall } from "./toolCall.js";

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
    // A session id is the server's choice (HTTP transports): cut like every name from outside.
    if (typeof sessionId === "string") info.sessionId = boundedName(sessionId);
    const uri = request.params?.uri;
    // A URI can carry credentials (`postgres://user:pw@…`, `?api_key=…`): redacted, capture or not.
    if (RESOURCE_METHODS.has(method) && typeof uri === "string") {
      const warden = parent.run.warden;
      info.resourceUri = redactedName(uri, "mcp.resource.uri", warden.options.redact, (e) =>
        warden.reportError(e, "redact"),
      );
    }
    // Names the caller or the server chose: cut to MAX_NAME_LENGTH like every name from outside.
    const promptName =
      method === "prompts/get" && typeof request.params?.name === "string"
        ? boundedName(request.params.name)
        : undefined;
    if (promptName !== undefined) info.promptName = promptName;
    const toolName =
      method === "tools/call" && typeof request.params?.name === "string"
        ? boundedName(request.params.name)
        : undefined;

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
  // The server's word: cut like a name.
  if (typeof version === "string") versions.set(client.transport ?? client, boundedName(version));
  return result;
}

/**
 * The protocol version of a request, from where the current MCP revision carries it: the request's
 * own `_meta` (2026-07-28, no `initialize`), the transport's negotiated `MCP-Protocol-Version`
 * header, then what `initialize` answered on this connection (revisions before 2026-07-28).
 */
function protocolVersionOf(client: ClientLike, request: McpRequest): string | undefined {
  const meta = request.params?._meta?.[MCP_META_PROTOCOL_VERSION];
  if (typeof meta === "string" && meta.length > 0) return boundedName(meta);
  const header = client.transport?.protocolVersion;
  if (typeof header === "string" && header.length > 0) return boundedName(header);
  return versions.get(client.transport ?? client) ?? versions.get(client);
}

function transportOf(client: ClientLike): string | undefined {
  const name = client.transport?.constructor?.name ?? "";
  if (/stdio/i.test(name)) return "pipe";
  if (/http|sse|websocket/i.test(name)) return "tcp";
  return undefined;
}
