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
import { BasicTracerProvider } from "@opentelemetry/sdk-trace-base";
import { Warden, type WardenOptions } from "agentwarden";
import { wrapGraph } from "agentwarden/langgraph";
import { SpanQueue } from "agentwarden/otel";
import { ScriptedChatModel } from "agentwarden/testing";
import { z } from "zod";
import { quantile, type RatioFigure, ratios, round } from "./harness.js";
import { DiscardingExporter } from "./soak.js";

export interface ConcurrencyFigures {
  description: string;
  tasks: number;
  rounds: number;
  /** Per round: (wall time of all tasks with agentwarden) / (bare wall time), in the same round. */
  ratio: RatioFigure;
  /** Per round: (peak heap with agentwarden) / (bare peak heap), in the same round. */
  heapRatio: RatioFigure;
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
 * `tasks` tasks started at once, bare and wrapped with every feature on, alternating over `rounds`
 * rounds in one process (the order flips each round); wall time and peak heap (sampled every 5 ms
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

  const sample = async (graph: typeof bare): Promise<{ seconds: number; peakMb: number }> => {
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

  // One untimed warm-up of each.
  await sample(bare);
  await sample(wrapped);
  const times: Record<"bare" | "warden", number[]> = { bare: [], warden: [] };
  const peaks: Record<"bare" | "warden", number[]> = { bare: [], warden: [] };
  for (let round = 0; round < options.rounds; round++) {
    const order = round % 2 === 0 ? (["bare", "warden"] as const) : (["warden", "bare"] as const);
    for (const variant of order) {
      const s = await sample(variant === "bare" ? bare : wrapped);
      times[variant].push(s.seconds);
      peaks[variant].push(s.peakMb);
    }
    await tracerProvider.forceFlush();
  }
  await tracerProvider.forceFlush();
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
    description: `${options.tasks} tasks at once of a ${STEPS}-turn ReAct agent (a 1 ms timer per model call), bare vs every feature on (tracing through SpanQueue, metrics to a MeterProvider, content capture + redaction, JSONL store, limits, loop stop, retries, corrective messages, tool breakers), alternating over ${options.rounds} rounds in one process`,
    tasks: options.tasks,
    rounds: options.rounds,
    ratio: ratios(times, "warden", "bare"),
    heapRatio: ratios(peaks, "warden", "bare"),
    bareSecondsMedian: med(times.bare),
    wardenSecondsMedian: med(times.warden),
    barePeakMbMedian: med(peaks.bare),
    wardenPeakMbMedian: med(peaks.warden),
    spans: { exported: q.exported, dropped: q.dropped },
    openTasks: stats.openTasks,
  };
}
