import {
  context,
  type Link,
  propagation,
  SpanKind,
  SpanStatusCode,
  type TracerProvider,
  trace,
} from "@opentelemetry/api";
import { captureText } from "../../src/content.js";
import { DEFAULT_MAX_CONTENT_LENGTH, type Redactor, redactSecrets, TRACER_NAME } from "../../src/index.js";

interface ServerLike {
  _requestHandlers?: Map<string, Handler>;
  setRequestHandler(schema: unknown, handler: Handler): void;
}

type Handler = (request: { method: string; params?: Record<string, unknown> }, extra: unknown) => unknown;

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
      const target = typeof request.params?.name === "string" ? ` ${request.params.name}` : "";
      const span = tracer.startSpan(
        `${method}${target}`,
        {
          kind: SpanKind.SERVER,
          links,
          attributes: {
            "mcp.method.name": method,
            ...(method === "tools/call" && target
              ? { "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": target.trim() }
              : {}),
          },
        },
        parent,
      );
      const done = (result: unknown) => {
        if ((result as { isError?: unknown } | null)?.isError === true) {
          span.setAttribute("error.type", "tool_error");
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
        span.end();
        return result;
      };
      try {
        const out = context.with(trace.setSpan(parent, span), () => handler(request, extra));
        return out instanceof Promise
          ? out.then(done, (error: unknown) => {
              span.setAttribute(
                "error.type",
                (error as { code?: unknown })?.code !== undefined
                  ? String((error as { code: unknown }).code)
                  : "_OTHER",
              );
              span.setStatus({ code: SpanStatusCode.ERROR, message: statusMessage(error) });
              span.end();
              throw error;
            })
          : done(out);
      } catch (error) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: statusMessage(error) });
        span.end();
        throw error;
      }
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
