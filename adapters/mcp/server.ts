import {
  type Attributes,
  context,
  type Link,
  propagation,
  SpanKind,
  SpanStatusCode,
  type TracerProvider,
  trace,
} from "@opentelemetry/api";
import { captureText, redactedName } from "../../src/content.js";
import { boundedName, DEFAULT_MAX_CONTENT_LENGTH, type Redactor, redactSecrets, TRACER_NAME } from "../../src/index.js";

interface ServerLike {
  _requestHandlers?: Map<string, Handler>;
  setRequestHandler(schema: unknown, handler: Handler): void;
  transport?: { constructor?: { name?: string }; sessionId?: string };
}

type Handler = (request: { method: string; params?: Record<string, unknown> }, extra: unknown) => unknown;

interface ExtraLike {
  requestId?: unknown;
  sessionId?: unknown;
  requestInfo?: { headers?: Record<string, unknown> };
}

/** Where the 2026-07-28 MCP revision carries the protocol version on every request. */
const META_PROTOCOL_VERSION = "io.modelcontextprotocol/protocolVersion";
/** Methods whose params carry a resource `uri` (`mcp.resource.uri`). */
const RESOURCE_METHODS = new Set(["resources/read", "resources/subscribe", "resources/unsubscribe"]);
/**
 * JSON-RPC codes a server answers a request it cannot serve with, which the MCP conventions say
 * are not server errors: parse error, invalid request, method not found, invalid params (also an
 * unknown tool), resource not found.
 */
const CALLER_ERRORS = new Set([-32700, -32600, -32601, -32602, -32002]);

const patched = Symbol.for("agentwarden.mcp.server");

export interface McpServerTracingOptions {
  /** Where SERVER spans go. Default: the global provider. */
  tracerProvider?: TracerProvider;
  /**
   * Runs on the message of a failed request before it becomes the span's status message (field
   * `error.message`). Default `redactSecrets`; a redactor that throws yields `[REDACTION_FAILED]`.
   */
  redact?: Redactor;
}

/**
 * Traces an MCP SDK server (`Server`, or `McpServer.server`): each incoming request is a SERVER
 * span `{method} {target}`, parented on the trace context the client put in `params._meta`
 * (`traceparent`, `tracestate`, `baggage`), with a link to the context it arrived in, and active
 * while the handler runs, so the server's own spans join the agent's trace.
 */
export function traceMcpServer<S extends object>(server: S, options: McpServerTracingOptions = {}): S {
  const s = ((server as { server?: unknown }).server ?? server) as ServerLike;
  if (typeof s.setRequestHandler !== "function" || !(s._requestHandlers instanceof Map)) {
    throw new TypeError("agentwarden: traceMcpServer() expects an MCP SDK Server or McpServer");
  }
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(TRACER_NAME);
  const redact = options.redact ?? redactSecrets;
  const statusMessage = (error: unknown) =>
    captureText(
      error instanceof Error ? error.message : error,
      "error.message",
      redact,
      DEFAULT_MAX_CONTENT_LENGTH,
      () => undefined,
    );
  // The version `initialize` settled on (revisions before 2026-07-28), for requests that do not carry one.
  let negotiated: string | undefined;
  const wrap = (method: string, handler: Handler): Handler => {
    if ((handler as unknown as Record<symbol, unknown>)[patched]) return handler;
    const traced: Handler = (request, extra) => {
      const meta = (request.params?._meta ?? {}) as Record<string, unknown>;
      const parent = propagation.extract(context.active(), meta, {
        get: (carrier, key) => (typeof carrier[key] === "string" ? (carrier[key] as string) : undefined),
        keys: (carrier) => Object.keys(carrier),
      });
      const arrival = trace.getSpanContext(context.active());
      const links: Link[] = arrival ? [{ context: arrival }] : [];
      // The client chose it: cut to MAX_NAME_LENGTH like every name from outside.
      const name = typeof request.params?.name === "string" ? boundedName(request.params.name) : undefined;
      // `{mcp.method.name} {target}`: the tool or the prompt; resource URIs stay out (cardinality).
      const target = name !== undefined && (method === "tools/call" || method === "prompts/get") ? name : undefined;
      const attributes: Attributes = { "mcp.method.name": method };
      if (method === "tools/call" && name !== undefined) {
        attributes["gen_ai.operation.name"] = "execute_tool";
        attributes["gen_ai.tool.name"] = name;
      }
      if (method === "prompts/get" && name !== undefined) attributes["gen_ai.prompt.name"] = name;
      const uri = request.params?.uri;
      // The URI, the request id and the session id are the client's too: cut the same way.
      // A URI can carry credentials (`postgres://user:pw@…`, `?api_key=…`): redacted, capture or not.
      if (RESOURCE_METHODS.has(method) && typeof uri === "string")
        attributes["mcp.resource.uri"] = redactedName(uri, "mcp.resource.uri", redact, () => undefined);
      const x = (extra ?? {}) as ExtraLike;
      if (typeof x.requestId === "string" || typeof x.requestId === "number")
        attributes["jsonrpc.request.id"] = boundedName(String(x.requestId));
      const version = protocolVersionOf(meta, x) ?? negotiated;
      if (version !== undefined) attributes["mcp.protocol.version"] = version;
      const sessionId = typeof x.sessionId === "string" ? x.sessionId : s.transport?.sessionId;
      if (typeof sessionId === "string") attributes["mcp.session.id"] = boundedName(sessionId);
      const transport = transportOf(s);
      if (transport !== undefined) attributes["network.transport"] = transport;
      const span = tracer.startSpan(
        target !== undefined ? `${method} ${target}` : method,
        { kind: SpanKind.SERVER, links, attributes },
        parent,
      );
      const done = (result: unknown) => {
        if (method === "initialize") {
          const v = (result as { protocolVersion?: unknown } | null)?.protocolVersion;
          if (typeof v === "string") {
            negotiated = v;
            span.setAttribute("mcp.protocol.version", v);
          }
        }
        if ((result as { isError?: unknown } | null)?.isError === true) {
          span.setAttribute("error.type", "tool_error");
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
        span.end();
        return result;
      };
      // A handler's failure as the client will see it: a JSON-RPC error with the error's own code,
      // else the SDK's -32603 (Internal error). Codes that only say the caller asked for something
      // this server cannot serve are not server errors.
      const failed = (error: unknown) => {
        const own = (error as { code?: unknown } | null)?.code;
        const code = typeof own === "number" && Number.isInteger(own) ? own : -32603;
        span.setAttribute("rpc.response.status_code", String(code));
        if (!CALLER_ERRORS.has(code)) {
          span.setAttribute("error.type", String(code));
          span.setStatus({ code: SpanStatusCode.ERROR, message: statusMessage(error) });
        }
        span.end();
      };
      let out: unknown;
      try {
        out = context.with(trace.setSpan(parent, span), () => handler(request, extra));
      } catch (error) {
        // A handler that throws synchronously: the same error.type as an asynchronous one.
        failed(error);
        throw error;
      }
      return out instanceof Promise
        ? out.then(done, (error: unknown) => {
            failed(error);
            throw error;
          })
        : done(out);
    };
    Object.defineProperty(traced, patched, { value: true });
    return traced;
  };
  for (const [method, handler] of s._requestHandlers) s._requestHandlers.set(method, wrap(method, handler));
  const register = s.setRequestHandler.bind(s);
  s.setRequestHandler = (schema, handler) => {
    register(schema, handler);
    // The SDK stores its own wrapper of the handler under the method name: wrap that.
    for (const [method, h] of s._requestHandlers ?? []) s._requestHandlers?.set(method, wrap(method, h));
  };
  return server;
}

/** The protocol version of a request: its `_meta` (2026-07-28), else its `MCP-Protocol-Version` header. */
function protocolVersionOf(meta: Record<string, unknown>, extra: ExtraLike): string | undefined {
  // The client's word: cut like a name (a version is a date, `2026-07-28`).
  const fromMeta = meta[META_PROTOCOL_VERSION];
  if (typeof fromMeta === "string" && fromMeta.length > 0) return boundedName(fromMeta);
  const header = extra.requestInfo?.headers?.["mcp-protocol-version"];
  if (typeof header === "string" && header.length > 0) return boundedName(header);
  return undefined;
}

function transportOf(server: ServerLike): string | undefined {
  const name = server.transport?.constructor?.name ?? "";
  if (/stdio/i.test(name)) return "pipe";
  if (/http|sse|websocket/i.test(name)) return "tcp";
  return undefined;
}
