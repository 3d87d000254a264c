import { context, propagation, type SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from "@opentelemetry/core";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";

let registered = false;

/** Registers the AsyncLocalStorage context manager and W3C propagators once, as an application's SDK set-up would. */
export function useContextManager(): void {
  if (registered) return;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
  registered = true;
}

/** A tracer provider exporting to memory, synchronously on span end. */
export function memoryTracing() {
  useContextManager();
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return { exporter, provider, spans: () => exporter.getFinishedSpans() };
}

export interface Node {
  name: string;
  kind?: SpanKind;
  status?: "ERROR";
  children: Node[];
}

/**
 * The span forest as nested `{ name, children }` in start order, with `status: "ERROR"` on failed
 * spans: the shape a test asserts exactly.
 */
export function tree(spans: readonly ReadableSpan[]): Node[] {
  const ids = new Set(spans.map((s) => s.spanContext().spanId));
  const byParent = new Map<string | undefined, ReadableSpan[]>();
  for (const s of spans) {
    const parent = s.parentSpanContext?.spanId;
    const key = parent && ids.has(parent) ? parent : undefined;
    const list = byParent.get(key) ?? [];
    list.push(s);
    byParent.set(key, list);
  }
  const build = (s: ReadableSpan): Node => {
    const children = (byParent.get(s.spanContext().spanId) ?? []).sort(byStart).map(build);
    return { name: s.name, ...(s.status.code === SpanStatusCode.ERROR ? { status: "ERROR" as const } : {}), children };
  };
  return (byParent.get(undefined) ?? []).sort(byStart).map(build);
}

function byStart(a: ReadableSpan, b: ReadableSpan): number {
  const [as, an] = a.startTime;
  const [bs, bn] = b.startTime;
  return as - bs || an - bn;
}

/** Shorthand for a tree node in expectations. */
export function n(name: string, children: Node[] = [], status?: "ERROR"): Node {
  return { name, ...(status ? { status } : {}), children };
}

export function byName(spans: readonly ReadableSpan[], name: string): ReadableSpan[] {
  return spans.filter((s) => s.name === name);
}

export function one(spans: readonly ReadableSpan[], name: string): ReadableSpan {
  const found = byName(spans, name);
  if (found.length !== 1) throw new Error(`expected one span named ${name}, found ${found.length}`);
  return found[0] as ReadableSpan;
}
