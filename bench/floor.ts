import { context, type Tracer, trace } from "@opentelemetry/api";
import type { SpanShape } from "./peers.js";

interface NodeTable {
  nodes: Record<string, { bound?: { invoke?: (input: unknown, config?: unknown) => Promise<unknown> } }>;
  invoke(input: unknown, config?: unknown): Promise<unknown>;
}

/**
 * A span made live the least costly way any in-process tracer can: started under the active span,
 * made active (through the application's context manager) while `work` runs, ended after. The
 * attributes are given at start (no `setAttribute` calls), `children` (at most one here: a node's
 * model or tool call) nest inside it.
 */
export function spanned<T>(tracer: Tracer, shape: SpanShape, work: () => Promise<T>): Promise<T> {
  const parent = context.active();
  const span = tracer.startSpan(shape.name, { kind: shape.kind, attributes: shape.attributes }, parent);
  const child = shape.children[0];
  return context
    .with(trace.setSpan(parent, span), () => (child ? spanned(tracer, child, work) : work()))
    .then((result) => {
      for (const e of shape.events) span.addEvent(e.name, e.attributes);
      span.setStatus(shape.status);
      span.end();
      return result;
    });
}

/**
 * The live floor: `graph` (a compiled LangGraph graph) traced with the same spans agentwarden
 * records for it (`root`, the span tree of one traced run: the graph's span and, per node name, the
 * node's span and the model or tool call inside it), each made live by `spanned`, and nothing else:
 * no ledger, no metrics, no limits, no loop detection, no model or tool hooks. What the spans
 * alone cost a tracer that makes them while the agent runs, through the application's
 * `TracerProvider`, so that the spans the application makes inside a step (an HTTP client's, a
 * database's) are its children. The graph's node table is changed in place.
 */
export function liveTraced(graph: unknown, root: SpanShape, tracer: Tracer): NodeTable {
  const g = graph as NodeTable;
  const byName = new Map<string, SpanShape>();
  for (const c of root.children) if (!byName.has(c.name)) byName.set(c.name, c);
  for (const [key, node] of Object.entries(g.nodes)) {
    const inner = node.bound;
    const shape = byName.get(key);
    if (!shape || typeof inner?.invoke !== "function") continue;
    const invoke = inner.invoke.bind(inner);
    const wrapped = Object.create(inner) as typeof inner;
    wrapped.invoke = (input, config) => spanned(tracer, shape, () => invoke(input, config));
    node.bound = wrapped;
  }
  const top = { ...root, children: [] };
  return { nodes: g.nodes, invoke: (input, config) => spanned(tracer, top, () => g.invoke(input, config)) };
}
