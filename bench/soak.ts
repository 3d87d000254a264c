import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tool } from "@langchain/core/tools";
import { createReactAgent, ToolNode } from "@langchain/langgraph/prebuilt";
import { context } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import type { ExportResult } from "@opentelemetry/core";
import { BasicTracerProvider, type ReadableSpan, type SpanExporter } from "@opentelemetry/sdk-trace-base";
import { Warden } from "agentwarden";
import { wrapGraph } from "agentwarden/langgraph";
import { SpanQueue } from "agentwarden/otel";
import { ScriptedChatModel, type ScriptedTurn } from "agentwarden/testing";
import { z } from "zod";
import { round } from "./harness.js";

export interface SoakFigures {
  description: string;
  tasks: number;
  /** Heap after a full collection at the end minus after the first 10% of tasks (warm), in MB. */
  heapGrowthMb: number;
  /** Heap after a full collection, every 10% of the tasks, in MB. */
  heapMbByDecile: number[];
  outcomes: Record<string, number>;
  openTasks: number;
  spans: { exported: number; dropped: number };
  telemetryErrors: Record<string, number>;
  storeMb: number;
  tasksPerSecond: number;
}

/** Counts and discards, as a network exporter does once a batch is sent (here at once: no network). */
export class DiscardingExporter implements SpanExporter {
  spans = 0;
  export(spans: ReadableSpan[], done: (r: ExportResult) => void): void {
    this.spans += spans.length;
    done({ code: 0 });
  }
  async shutdown(): Promise<void> {}
}

const taskOf = (text: unknown) => Number(/task-(\d+)/.exec(String(text))?.[1]);

/**
 * A ReAct agent with every feature in use, one kind of task per `i % 5`: a lookup then an answer;
 * a transient tool failure retried by agentwarden; a model failure; a loop of lookups stopped by
 * the invoke's maxToolCalls; a final eval that fails.
 */
export function soakAgent(warden: Warden) {
  const flakyCalls = new Map<number, number>();
  const lookup = tool(async ({ q }: { q: string }) => `found ${q} (contact ops@example.com)`, {
    name: "lookup",
    description: "Looks up.",
    schema: z.object({ q: z.string() }),
  });
  const flaky = tool(
    async ({ q }: { q: string }) => {
      const i = taskOf(q);
      const calls = (flakyCalls.get(i) ?? 0) + 1;
      if (calls === 1) {
        flakyCalls.set(i, calls);
        throw new Error(`upstream timed out for ${q}`);
      }
      flakyCalls.delete(i);
      return `fetched ${q}`;
    },
    { name: "flaky", description: "Fetches.", schema: z.object({ q: z.string() }) },
  );
  const llm = new ScriptedChatModel({
    model: "gpt-4o-mini",
    script: (messages): ScriptedTurn => {
      const i = taskOf(messages[0]?.content);
      const turn = messages.filter((m) => m.getType() === "ai").length;
      const q = `task-${i}`;
      const kind = i % 5;
      if (kind === 2) return { error: new Error(`model refused ${q}`) };
      if (kind === 3)
        return { toolCalls: [{ name: "lookup", args: { q: `${q}/${turn}` } }], usage: { input: 300, output: 20 } };
      return turn === 0
        ? { toolCalls: [{ name: kind === 1 ? "flaky" : "lookup", args: { q } }], usage: { input: 500, output: 20 } }
        : { content: kind === 4 ? "no idea" : `answer for ${q}`, usage: { input: 800, output: 40 } };
    },
  });
  const agent = createReactAgent({ llm, tools: new ToolNode([lookup, flaky]), name: "soak" });
  return wrapGraph(agent, {
    warden,
    finalEvals: [
      {
        name: "answered",
        evaluate: (output: unknown) => {
          const last = (output as { messages: Array<{ content: unknown }> }).messages.at(-1);
          return { pass: String(last?.content).startsWith("answer"), score: 1 };
        },
      },
    ],
  });
}

/**
 * `tasks` tasks through one wrapped agent with every feature on (tracing through a SpanQueue,
 * metrics, content capture with redaction, the JSONL store, limits, loop detection, tool circuit
 * breakers, retries and corrective messages, a final eval), 50 at a time; the heap after a full
 * collection every tenth of the way.
 */
export async function soakBench(tasks: number): Promise<SoakFigures> {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const collect = (globalThis as { gc?: () => void }).gc ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), "agentwarden-soak-"));
  const exporter = new DiscardingExporter();
  let warden: Warden | undefined;
  const queue = new SpanQueue(exporter, { scheduledDelayMillis: 200, onError: (e, s) => warden?.reportError(e, s) });
  const provider = new BasicTracerProvider({ spanProcessors: [queue] });
  warden = new Warden({
    tracerProvider: provider,
    captureContent: true,
    store: join(dir, "runs.jsonl"),
    recovery: { retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 2 } },
    toolBreaker: { consecutiveFailures: 1_000_000 },
    limits: { maxCostUsd: 1, maxSteps: 100 },
    onError: () => {},
  });
  const outcomes: Record<string, number> = {};
  warden.onTaskEnd((run) => {
    const outcome = run.outcome ?? "open";
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  });
  const agent = soakAgent(warden);
  const one = (i: number) =>
    agent
      .invoke(
        { messages: [{ role: "user", content: `task-${i}: find it; I am bob@example.com` }] },
        {
          configurable: {
            thread_id: `t${i}`,
            ...(i % 5 === 3 ? { agentwarden: { limits: { maxToolCalls: 2 } } } : {}),
          },
        },
      )
      .catch(() => undefined);

  const heap = () => {
    collect();
    return process.memoryUsage().heapUsed / 2 ** 20;
  };
  const deciles: number[] = [];
  const step = Math.max(1, Math.floor(tasks / 10));
  const start = performance.now();
  for (let done = 0; done < tasks; ) {
    const batch = Math.min(50, tasks - done);
    await Promise.all(Array.from({ length: batch }, (_, k) => one(done + k)));
    done += batch;
    // The scripted agent never waits on I/O, so without this the event loop would never reach the
    // exporter's callbacks (a real agent awaits its model and tools): the queue would fill and drop.
    await new Promise((resolve) => setImmediate(resolve));
    if (done % step === 0) {
      await provider.forceFlush();
      deciles.push(round(heap(), 2));
    }
  }
  const seconds = (performance.now() - start) / 1000;
  await provider.forceFlush();
  const storeMb = round(statSync(join(dir, "runs.jsonl")).size / 2 ** 20, 1);
  const stats = warden.stats();
  const q = queue.stats();
  await warden.shutdown();
  await provider.shutdown();
  rmSync(dir, { recursive: true, force: true });
  return {
    description: `${tasks} tasks (5 kinds: success, transient tool failure retried, model failure, loop stopped by maxToolCalls, final eval failed), 50 concurrent, every feature on; heap after full GC`,
    tasks,
    heapGrowthMb: round((deciles.at(-1) ?? Number.NaN) - (deciles[0] ?? Number.NaN), 2),
    heapMbByDecile: deciles,
    outcomes,
    openTasks: stats.openTasks,
    spans: { exported: q.exported, dropped: q.dropped },
    telemetryErrors: stats.telemetryErrors,
    storeMb,
    tasksPerSecond: Math.round(tasks / seconds),
  };
}
