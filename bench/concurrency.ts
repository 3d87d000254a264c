import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tool } from "@langchain/core/tools";
import { createReactAgent, ToolNode } from "@langchain/langgraph/prebuilt";
import { context } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { Warden, type WardenOptions } from "agentwarden";
import { wrapGraph } from "agentwarden/langgraph";
import { SpanQueue } from "agentwarden/otel";
import { ScriptedChatModel } from "agentwarden/testing";
import { z } from "zod";
import { liveTraced } from "./floor.js";
import { quantile, type RatioFigure, ratios, round } from "./harness.js";
import { spanShapes } from "./peers.js";
import { DiscardingExporter } from "./soak.js";

export interface ConcurrencyFigures {
  description: string;
  tasks: number;
  rounds: number;
  /** Per round: (wall time of all tasks with agentwarden) / (bare wall time), in the same round. */
  ratio: RatioFigure;
  /** Per round: (peak heap with agentwarden) / (bare peak heap), in the same round. */
  heapRatio: RatioFigure;
  /**
   * The live floor, no agentwarden: the bare agent with the same spans per task made live (each
   * started under the active span, active while its node, model or tool call runs; bench/floor.ts)
   * through a SpanQueue like agentwarden's, and nothing else. Wall and peak heap against bare, per
   * round: what the spans alone cost.
   */
  floor: { ratio: RatioFigure; heapRatio: RatioFigure; spansPerTask: number };
  bareSecondsMedian: number;
  wardenSecondsMedian: number;
  barePeakMbMedian: number;
  wardenPeakMbMedian: number;
  spans: { exported: number; dropped: number };
  openTasks: number;
}

const STEPS = 4;

/**
 * A ReAct agent whose scripted model takes a timer turn per call (as a model's network round trip
 * does: the event loop turns, so thousands of tasks are in flight at once) and makes `STEPS`
 * tool-calling turns, then answers. The bare and the wrapped agent are built the same way.
 */
export function agent() {
  const lookup = tool(async ({ key }: { key: string }) => `value of ${key} (owner ops@example.com)`, {
    name: "lookup",
    description: "Looks a key up.",
    schema: z.object({ key: z.string() }),
  });
  const llm = new ScriptedChatModel({
    model: "gpt-4o-mini",
    script: (messages) => {
      const turns = messages.filter((m) => m.getType() === "ai").length;
      return turns < STEPS
        ? { toolCalls: [{ name: "lookup", args: { key: `k${turns}` } }], usage: { input: 300, output: 20 }, delayMs: 1 }
        : { content: "done", usage: { input: 500, output: 10 }, delayMs: 1 };
    },
  });
  return createReactAgent({ llm, tools: new ToolNode([lookup]), name: "concurrent" });
}

/** Every feature that exists, on: what a production deployment that turned everything on would run. */
export function everyFeature(
  tracerProvider: BasicTracerProvider,
  meterProvider: MeterProvider,
  store: string,
): WardenOptions {
  return {
    tracerProvider,
    meterProvider,
    captureContent: true,
    store,
    limits: { maxCostUsd: 5, maxSteps: 200, maxToolCalls: 50 },
    loops: { stop: true },
    recovery: { retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 2 }, correctiveMessages: true },
    toolBreaker: { consecutiveFailures: 1_000 },
    onError: () => {},
  };
}

/**
 * `tasks` tasks started at once, bare, wrapped with every feature on, and the live floor (the same
 * spans on a bare agent, nothing else), in turn over `rounds`
 * rounds in one process (the order turns each round); wall time and peak heap (sampled every 5 ms
 * while the tasks run) per variant, and their ratios per round.
 */
export async function concurrencyBench(options: { tasks: number; rounds: number }): Promise<ConcurrencyFigures> {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const collect = (globalThis as { gc?: () => void }).gc ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), "agentwarden-concurrency-"));
  const exporter = new DiscardingExporter();
  let warden: Warden | undefined;
  const queue = new SpanQueue(exporter, { scheduledDelayMillis: 200, onError: (e, s) => warden?.reportError(e, s) });
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [queue] });
  const meterProvider = new MeterProvider({
    readers: [
      new PeriodicExportingMetricReader({
        exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
        exportIntervalMillis: 60_000,
      }),
    ],
  });
  warden = new Warden(everyFeature(tracerProvider, meterProvider, join(dir, "runs.jsonl")));
  const bare = agent();
  const wrapped = wrapGraph(agent(), { warden });
  // The floor: the spans agentwarden records for one task, made live on a bare agent.
  const probeSpans = new InMemorySpanExporter();
  const probeProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(probeSpans)] });
  const probe = new Warden({ ...everyFeature(probeProvider, meterProvider, join(dir, "probe.jsonl")), metrics: false });
  await wrapGraph(agent(), { warden: probe }).invoke(
    { messages: [{ role: "user", content: "task-0: look it up; I am bob@example.com" }] },
    { configurable: { thread_id: "probe" } },
  );
  await probe.shutdown();
  const [root, ...others] = spanShapes(probeSpans.getFinishedSpans());
  if (!root || others.length > 0) throw new Error("concurrency: expected one root span per task");
  const spansPerTask = probeSpans.getFinishedSpans().length;
  const floorQueue = new SpanQueue(new DiscardingExporter(), { scheduledDelayMillis: 200 });
  const floorProvider = new BasicTracerProvider({ spanProcessors: [floorQueue] });
  const floor = liveTraced(agent(), root, floorProvider.getTracer("live-floor"));

  const sample = async (graph: {
    invoke(input: unknown, config?: unknown): Promise<unknown>;
  }): Promise<{ seconds: number; peakMb: number }> => {
    collect();
    await new Promise((resolve) => setImmediate(resolve));
    let peak = process.memoryUsage().heapUsed;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().heapUsed);
    }, 5);
    const start = performance.now();
    await Promise.all(
      Array.from({ length: options.tasks }, (_, i) =>
        graph.invoke(
          { messages: [{ role: "user", content: `task-${i}: look it up; I am bob@example.com` }] },
          { configurable: { thread_id: `t${i}` } },
        ),
      ),
    );
    const seconds = (performance.now() - start) / 1000;
    clearInterval(timer);
    peak = Math.max(peak, process.memoryUsage().heapUsed);
    return { seconds, peakMb: peak / 2 ** 20 };
  };

  const graphs = { bare, warden: wrapped, floor } as const;
  const variants = Object.keys(graphs) as (keyof typeof graphs)[];
  // One untimed warm-up of each.
  for (const variant of variants) await sample(graphs[variant]);
  const times: Record<keyof typeof graphs, number[]> = { bare: [], warden: [], floor: [] };
  const peaks: Record<keyof typeof graphs, number[]> = { bare: [], warden: [], floor: [] };
  for (let round = 0; round < options.rounds; round++) {
    // The order turns each round, so each variant runs first, second and last as often.
    const order = variants.map((_, i) => variants[(i + round) % variants.length] as keyof typeof graphs);
    for (const variant of order) {
      const s = await sample(graphs[variant]);
      times[variant].push(s.seconds);
      peaks[variant].push(s.peakMb);
    }
    await tracerProvider.forceFlush();
    await floorProvider.forceFlush();
  }
  await tracerProvider.forceFlush();
  await floorProvider.shutdown();
  const stats = warden.stats();
  const q = queue.stats();
  await warden.shutdown();
  await tracerProvider.shutdown();
  await meterProvider.shutdown();
  rmSync(dir, { recursive: true, force: true });
  const med = (xs: number[]) =>
    round(
      quantile(
        [...xs].sort((a, b) => a - b),
        0.5,
      ),
      3,
    );
  return {
    description: `${options.tasks} tasks at once of a ${STEPS}-turn ReAct agent (a 1 ms timer per model call), bare vs every feature on (tracing through SpanQueue, metrics to a MeterProvider, content capture + redaction, JSONL store, limits, loop stop, retries, corrective messages, tool breakers), and the live floor (the same ${spansPerTask} spans per task made live on a bare agent, nothing else), in turn over ${options.rounds} rounds in one process`,
    tasks: options.tasks,
    rounds: options.rounds,
    ratio: ratios(times, "warden", "bare"),
    heapRatio: ratios(peaks, "warden", "bare"),
    floor: { ratio: ratios(times, "floor", "bare"), heapRatio: ratios(peaks, "floor", "bare"), spansPerTask },
    bareSecondsMedian: med(times.bare),
    wardenSecondsMedian: med(times.warden),
    barePeakMbMedian: med(peaks.bare),
    wardenPeakMbMedian: med(peaks.warden),
    spans: { exported: q.exported, dropped: q.dropped },
    openTasks: stats.openTasks,
  };
}
