import { LangChainInstrumentation } from "@arizeai/openinference-instrumentation-langchain";
import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import * as CallbackManagerModule from "@langchain/core/callbacks/manager";
import { CallbackHandler } from "@langfuse/langchain";
import { setLangfuseTracerProvider } from "@langfuse/tracing";
import { type Attributes, type Context, context, type SpanKind, type SpanStatus, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  InMemorySpanExporter,
  ParentBasedSampler,
  type ReadableSpan,
  type Sampler,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace-base";
import { injectionCheck, MemoryStateStore, piiCheck, Warden } from "agentwarden";
import { wrapGraph } from "agentwarden/langgraph";
import { liveTraced } from "./floor.js";
import { interleave, quantile, type RatioFigure, ratios, round } from "./harness.js";
import { input, scriptedReactAgent } from "./react.js";

const STEPS = 10;
/** Runs per sample: a sample is 5 back-to-back runs of one variant (warm, as a server runs agents). */
const PER_ROUND = 5;

export interface PeerFigure {
  /** Median over interleaved rounds of (this variant's run time / the bare run's time in the same round). */
  ratio: RatioFigure;
  /** Median over rounds of (this variant's run time - the bare run's) / agent steps, in microseconds. */
  overheadUsPerStep: { median: number; p25: number; p75: number };
  spansPerRun: number;
  /** Heap after `heapRuns` runs of this variant alone minus before, both after a full collection, in MB. */
  heapGrowthMb: number;
}

export interface PeersFigures {
  description: string;
  bareMsPerRunMedian: number;
  heapRuns: number;
  /** Tracing, metrics, limits and loop detection on. */
  agentwarden: PeerFigure;
  /**
   * Every feature on: the above, plus recovery (retries, corrective messages), tool breakers, input
   * and output guards, online evaluation (10% sample), a shared budget on an in-memory state store.
   */
  agentwardenAll: PeerFigure;
  /** The same with content capture on (prompts, messages, tool payloads, redacted), as the peers record by default. */
  agentwardenCapture: PeerFigure;
  /** The same with tracing off: the ledger, metrics and breakers alone. */
  agentwardenUntraced: PeerFigure;
  /**
   * Tracing, metrics, limits and loop detection, with the head sampling production tracing
   * usually runs: `ParentBased(TraceIdRatioBased(0.1))`, one trace in ten kept.
   */
  agentwardenSampled: PeerFigure;
  /**
   * The OpenTelemetry SDK alone, no agentwarden: a bare run, then the spans agentwarden records for
   * it (the same names, kinds, parents, attributes, events and statuses, copied from one traced
   * run) started and ended through a tracer provider like agentwarden's, in one batch with parents
   * passed explicitly (no context activation, no hooks). A floor: what the spans cost any tracer
   * that makes them through the application's TracerProvider.
   */
  sdkFloor: PeerFigure;
  /**
   * The live floor, no agentwarden: the same spans made while the agent runs, each started under
   * the active span and made active while its node, model or tool call runs (bench/floor.ts), with
   * no ledger, metrics, limits, loop detection or model and tool hooks. What the spans alone cost a
   * tracer whose spans are the parents of the application's own (an HTTP client's inside a model
   * call).
   */
  liveFloor: PeerFigure;
  /** A LangChain callback handler that does nothing: the cost of the mechanism the peers use. */
  noopCallback: PeerFigure;
  openinference: PeerFigure;
  langfuse: PeerFigure;
}

class NoopHandler extends BaseCallbackHandler {
  name = "noop";
}

/** A tracer provider whose spans go to memory through the SDK's batch processor, as an exporter would take them. */
function memoryProvider(sampler?: Sampler) {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    ...(sampler ? { sampler } : {}),
    spanProcessors: [
      new BatchSpanProcessor(exporter, { maxQueueSize: 100_000, maxExportBatchSize: 512, scheduledDelayMillis: 50 }),
    ],
  });
  return { exporter, provider };
}

/** A recorded span and its children, to be made again through a tracer (see `sdkFloor`). */
export interface SpanShape {
  name: string;
  kind: SpanKind;
  attributes: Attributes;
  events: Array<{ name: string; attributes?: Attributes }>;
  status: SpanStatus;
  children: SpanShape[];
}

/** The span tree of one run's finished spans (its roots first). */
export function spanShapes(spans: readonly ReadableSpan[]): SpanShape[] {
  const byId = new Map<string, SpanShape>();
  for (const s of spans) {
    byId.set(s.spanContext().spanId, {
      name: s.name,
      kind: s.kind,
      attributes: { ...s.attributes },
      events: s.events.map((e) => ({ name: e.name, ...(e.attributes ? { attributes: { ...e.attributes } } : {}) })),
      status: s.status,
      children: [],
    });
  }
  const roots: SpanShape[] = [];
  // Finished spans come in end order; a parent ends after its children, so sort by start time.
  const ordered = [...spans].sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1]);
  for (const s of ordered) {
    const shape = byId.get(s.spanContext().spanId) as SpanShape;
    const parent = s.parentSpanContext ? byId.get(s.parentSpanContext.spanId) : undefined;
    if (parent) parent.children.push(shape);
    else roots.push(shape);
  }
  return roots;
}

/** Makes `shapes` again through `tracer`, each under its parent (passed explicitly). */
export function replaySpans(
  tracer: ReturnType<BasicTracerProvider["getTracer"]>,
  shapes: SpanShape[],
  parent: Context,
): void {
  for (const shape of shapes) {
    const span = tracer.startSpan(shape.name, { kind: shape.kind, attributes: shape.attributes }, parent);
    if (shape.children.length > 0) replaySpans(tracer, shape.children, trace.setSpan(parent, span));
    for (const e of shape.events) span.addEvent(e.name, e.attributes);
    span.setStatus(shape.status);
    span.end();
  }
}

/**
 * The peers side by side on the same 10-step scripted ReAct agent (createReactAgent), interleaved in
 * one process: bare; agentwarden (tracing, metrics, limits and loop detection on), and without
 * tracing; a LangChain callback handler that does nothing; OpenInference's
 * LangChain instrumentation (patched in for its own samples only); Langfuse's LangChain callback
 * handler. Every tracer sends its spans to an in-memory exporter through a BatchSpanProcessor, and
 * the AsyncLocalStorage context manager is registered, as an application's OpenTelemetry SDK would.
 */
export async function peersBench(options: { rounds: number; heapRuns: number }): Promise<PeersFigures> {
  return peersFigures([await peersSample(options)], options);
}

/** One process's measurement (see `peersBench`). */
export async function peersSample(options: { rounds: number; heapRuns: number }): Promise<PeersSample> {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

  const aw = memoryProvider();
  const warden = new Warden({ tracerProvider: aw.provider, limits: { maxCostUsd: 5, maxSteps: 500 } });
  const wardenGraph = wrapGraph(scriptedReactAgent(STEPS), { warden });
  const capturing = new Warden({
    tracerProvider: aw.provider,
    captureContent: true,
    limits: { maxCostUsd: 5, maxSteps: 500 },
  });
  const capturingGraph = wrapGraph(scriptedReactAgent(STEPS), { warden: capturing });
  const all = new Warden({
    tracerProvider: aw.provider,
    limits: { maxCostUsd: 5, maxSteps: 500 },
    recovery: { retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 2 }, correctiveMessages: true },
    toolBreaker: { consecutiveFailures: 1_000 },
    state: new MemoryStateStore(),
    sharedBudgets: [{ name: "tenant", key: "task", maxCostUsd: 100, windowMs: 60_000 }],
    online: { evaluators: [{ name: "answered", evaluate: () => true }], sampleRate: 0.1 },
  });
  const allGraph = wrapGraph(scriptedReactAgent(STEPS), {
    warden: all,
    guards: {
      input: [{ evaluators: [injectionCheck()], action: "block" }],
      output: [{ evaluators: [piiCheck()], action: "redact" }],
    },
  });
  const sampledProvider = memoryProvider(new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.1) }));
  const sampled = new Warden({ tracerProvider: sampledProvider.provider, limits: { maxCostUsd: 5, maxSteps: 500 } });
  const sampledGraph = wrapGraph(scriptedReactAgent(STEPS), { warden: sampled });
  const untraced = new Warden({ tracing: false, limits: { maxCostUsd: 5, maxSteps: 500 } });
  const untracedGraph = wrapGraph(scriptedReactAgent(STEPS), { warden: untraced });
  const noopGraph = scriptedReactAgent(STEPS);
  const noop = new NoopHandler();

  const oi = memoryProvider();
  const instrumentation = new LangChainInstrumentation({ tracerProvider: oi.provider });
  instrumentation.disable();
  const oiGraph = scriptedReactAgent(STEPS);
  const patchIn = () => instrumentation.manuallyInstrument(CallbackManagerModule);
  // \`unpatch\` is the instrumentation's own undo of \`manuallyInstrument\` (TypeScript-private).
  const patchOut = () =>
    (instrumentation as unknown as { unpatch(module: unknown): void }).unpatch(CallbackManagerModule);
  patchOut();

  const lf = memoryProvider();
  setLangfuseTracerProvider(lf.provider);
  const lfGraph = scriptedReactAgent(STEPS);
  const lfHandler = new CallbackHandler();

  const bare = scriptedReactAgent(STEPS);
  const floor = memoryProvider();
  const floorTracer = floor.provider.getTracer("sdk-floor");
  let floorShapes: SpanShape[] = [];
  const floorGraph = scriptedReactAgent(STEPS);
  let liveGraph: { invoke(input: unknown): Promise<unknown> } | undefined;
  const exporters = [aw.exporter, oi.exporter, lf.exporter, sampledProvider.exporter, floor.exporter];
  // Spans are exported (to memory) and dropped, as a real exporter would.
  const drain = () => {
    for (const e of exporters) if (e.getFinishedSpans().length > 2000) e.reset();
  };

  const runs: Record<string, () => Promise<void>> = {
    bare: async () => void (await bare.invoke(input)),
    agentwarden: async () => {
      await wardenGraph.invoke(input);
      drain();
    },
    agentwardenAll: async () => {
      await allGraph.invoke(input);
      drain();
    },
    agentwardenCapture: async () => {
      await capturingGraph.invoke(input);
      drain();
    },
    agentwardenUntraced: async () => void (await untracedGraph.invoke(input)),
    agentwardenSampled: async () => {
      await sampledGraph.invoke(input);
      drain();
    },
    sdkFloor: async () => {
      await floorGraph.invoke(input);
      replaySpans(floorTracer, floorShapes, context.active());
      drain();
    },
    liveFloor: async () => {
      await liveGraph?.invoke(input);
      drain();
    },
    noopCallback: async () => void (await noopGraph.invoke(input, { callbacks: [noop] })),
    openinference: async () => {
      await oiGraph.invoke(input);
      drain();
    },
    langfuse: async () => {
      await lfGraph.invoke(input, { callbacks: [lfHandler] });
      drain();
    },
  };
  const hooks: Record<string, { before?: () => void; after?: () => void }> = {
    openinference: { before: patchIn, after: patchOut },
  };
  const withHooks = (name: string) => ({ name, run: runs[name] as () => Promise<void>, ...hooks[name] });

  // Spans per run, each measured alone.
  const spansPerRun: Record<string, number> = {};
  for (const [name, p] of [
    ["agentwarden", aw],
    ["agentwardenAll", aw],
    ["agentwardenCapture", aw],
    ["openinference", oi],
    ["langfuse", lf],
  ] as const) {
    p.exporter.reset();
    const v = withHooks(name);
    v.before?.();
    await v.run();
    v.after?.();
    await p.provider.forceFlush();
    spansPerRun[name] = p.exporter.getFinishedSpans().length;
    if (name === "agentwarden") floorShapes = spanShapes(p.exporter.getFinishedSpans());
    p.exporter.reset();
  }
  const [root] = floorShapes;
  if (floorShapes.length !== 1 || !root) throw new Error(`peers: expected one root span, got ${floorShapes.length}`);
  liveGraph = liveTraced(scriptedReactAgent(STEPS), root, floor.provider.getTracer("live-floor"));
  for (const name of ["sdkFloor", "liveFloor"]) {
    floor.exporter.reset();
    await runs[name]?.();
    await floor.provider.forceFlush();
    spansPerRun[name] = floor.exporter.getFinishedSpans().length;
  }
  floor.exporter.reset();
  if (spansPerRun.liveFloor !== spansPerRun.agentwarden || spansPerRun.sdkFloor !== spansPerRun.agentwarden)
    throw new Error(
      `peers: the floors made ${spansPerRun.sdkFloor}/${spansPerRun.liveFloor} spans, agentwarden ${spansPerRun.agentwarden}`,
    );
  // Head-sampled: the mean over 200 runs (a run has all its spans or none).
  sampledProvider.exporter.reset();
  for (let i = 0; i < 200; i++) await sampledGraph.invoke(input);
  await sampledProvider.provider.forceFlush();
  spansPerRun.agentwardenSampled = round(sampledProvider.exporter.getFinishedSpans().length / 200, 1);
  sampledProvider.exporter.reset();

  const names = [
    "bare",
    "agentwarden",
    "agentwardenAll",
    "agentwardenCapture",
    "agentwardenUntraced",
    "agentwardenSampled",
    "sdkFloor",
    "liveFloor",
    "noopCallback",
    "openinference",
    "langfuse",
  ];
  const times = await interleave(names.map(withHooks), { rounds: options.rounds, perRound: PER_ROUND, warmup: 5 });

  // Heap growth, each variant alone: the heap after a full collection, before and after.
  const collect = (globalThis as { gc?: () => void }).gc ?? (() => {});
  const heapGrowthMb: Record<string, number> = {};
  for (const name of names.slice(1)) {
    const v = withHooks(name);
    v.before?.();
    for (let i = 0; i < 20; i++) await v.run();
    for (const p of [aw, oi, lf, sampledProvider, floor]) await p.provider.forceFlush();
    for (const e of exporters) e.reset();
    collect();
    const before = process.memoryUsage().heapUsed;
    // Between runs the event loop turns, as between a server's requests: V8 keeps every WeakRef's
    // target (LangGraph's AbortSignal.any makes some) alive until the current job ends, so a loop
    // that never yields would show them all as growth.
    for (let i = 0; i < options.heapRuns; i++) {
      await v.run();
      await new Promise((resolve) => setImmediate(resolve));
    }
    for (const p of [aw, oi, lf, sampledProvider, floor]) await p.provider.forceFlush();
    for (const e of exporters) e.reset();
    collect();
    heapGrowthMb[name] = round((process.memoryUsage().heapUsed - before) / 2 ** 20, 2);
    v.after?.();
  }
  await all.shutdown();
  await Promise.all([
    aw.provider.shutdown(),
    oi.provider.shutdown(),
    lf.provider.shutdown(),
    sampledProvider.provider.shutdown(),
    floor.provider.shutdown(),
  ]);
  return { times, spansPerRun, heapGrowthMb };
}

/** What one process measured: per-round times of every variant, spans per run, heap growth. */
export interface PeersSample {
  times: Record<string, number[]>;
  spansPerRun: Record<string, number>;
  heapGrowthMb: Record<string, number>;
}

/**
 * The figures of one or more processes' samples, their rounds pooled: each process is a fresh
 * V8 (its own JIT decisions and memory layout), and the medians of single processes were seen to
 * move by a few points from one to the next. Heap growth and spans: the first process's.
 */
export function peersFigures(samples: PeersSample[], options: { rounds: number; heapRuns: number }): PeersFigures {
  const times: Record<string, number[]> = {};
  for (const s of samples) {
    for (const [k, v] of Object.entries(s.times)) times[k] = [...(times[k] ?? []), ...v];
  }
  const spansPerRun = samples[0]?.spansPerRun ?? {};
  const heapGrowthMb = samples[0]?.heapGrowthMb ?? {};
  const bareTimes = times.bare ?? [];
  const figure = (name: string): PeerFigure => {
    const diffs = (times[name] ?? []).map((t, i) => ((t - (bareTimes[i] ?? Number.NaN)) * 1000) / STEPS);
    diffs.sort((a, b) => a - b);
    return {
      ratio: ratios(times, name, "bare"),
      overheadUsPerStep: {
        median: round(quantile(diffs, 0.5), 1),
        p25: round(quantile(diffs, 0.25), 1),
        p75: round(quantile(diffs, 0.75), 1),
      },
      spansPerRun: spansPerRun[name] ?? 0,
      heapGrowthMb: heapGrowthMb[name] ?? Number.NaN,
    };
  };
  const bareSorted = [...bareTimes].sort((a, b) => a - b);
  return {
    description: `${STEPS}-step scripted ReAct run (createReactAgent: ${STEPS} tool-calling turns + answer), ${samples.length} process(es) × ${options.rounds} interleaved rounds of ${PER_ROUND} runs per variant, spans to an in-memory exporter via BatchSpanProcessor`,
    bareMsPerRunMedian: round(quantile(bareSorted, 0.5), 2),
    heapRuns: options.heapRuns,
    agentwarden: figure("agentwarden"),
    agentwardenAll: figure("agentwardenAll"),
    agentwardenCapture: figure("agentwardenCapture"),
    agentwardenUntraced: figure("agentwardenUntraced"),
    agentwardenSampled: figure("agentwardenSampled"),
    sdkFloor: figure("sdkFloor"),
    liveFloor: figure("liveFloor"),
    noopCallback: figure("noopCallback"),
    openinference: figure("openinference"),
    langfuse: figure("langfuse"),
  };
}
