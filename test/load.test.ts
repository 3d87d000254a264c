import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { tool } from "@langchain/core/tools";
import { Annotation, interrupt, MemorySaver, START, StateGraph } from "@langchain/langgraph";
import { createReactAgent, ToolNode } from "@langchain/langgraph/prebuilt";
import type { ExportResult } from "@opentelemetry/core";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  type SpanExporter,
} from "@opentelemetry/sdk-trace-base";
import { describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { wrapGraph } from "../adapters/langgraph/index.js";
import { SpanQueue, type SpanQueueOptions } from "../adapters/otel/index.js";
import { ScriptedChatModel, type ScriptedTurn } from "../adapters/testing/index.js";
import { BreakerTripError, type Run, type TaskSummary, Warden } from "../src/index.js";
import { TEST_PRICES, user } from "./support/agents.js";
import { memoryTracing, n, tree, useContextManager } from "./support/otel.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const fast = { retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 2 } };
const taskOf = (text: unknown) => Number(/task-(\d+)/.exec(String(text))?.[1]);

/**
 * One ReAct agent for many concurrent tasks: the scripted model and the tools read the task number
 * from the conversation, so every task follows its own script whatever the interleaving.
 *   kind 0: lookup, then an answer (success).
 *   kind 1: flaky fails once with a transient error, agentwarden retries it, then an answer (success, ERR 1).
 *   kind 2: the model fails (task failure, one model failure).
 *   kind 3: lookup again and again until the invoke's maxToolCalls of 2 trips (task failure, a trip).
 */
function mixedAgent(warden: Warden) {
  const flakyCalls = new Map<number, number>();
  const lookup = tool(async ({ q }: { q: string }) => `found ${q}`, {
    name: "lookup",
    description: "Looks up.",
    schema: z.object({ q: z.string() }),
  });
  const flaky = tool(
    async ({ q }: { q: string }) => {
      const i = taskOf(q);
      const calls = (flakyCalls.get(i) ?? 0) + 1;
      flakyCalls.set(i, calls);
      if (calls === 1) throw new Error(`upstream timed out for ${q}`);
      return `fetched ${q}`;
    },
    { name: "flaky", description: "Fetches.", schema: z.object({ q: z.string() }) },
  );
  const llm = new ScriptedChatModel({
    model: "test-model",
    script: (messages): ScriptedTurn => {
      const i = taskOf(messages[0]?.content);
      const turn = messages.filter((m) => m.getType() === "ai").length;
      const q = `task-${i}`;
      switch (i % 4) {
        case 0:
        case 1:
          return turn === 0
            ? {
                toolCalls: [{ name: i % 4 === 0 ? "lookup" : "flaky", args: { q }, id: `c${i}` }],
                usage: { input: 1000 + i, output: 10 },
              }
            : { content: `answer for ${q}`, usage: { input: 2000 + i, output: 20 } };
        case 2:
          return { error: new Error(`model refused ${q}`) };
        default:
          return {
            toolCalls: [{ name: "lookup", args: { q: `${q}/${turn}` }, id: `c${i}-${turn}` }],
            usage: { input: 100, output: 5 },
          };
      }
    },
  });
  const tools = new ToolNode([lookup, flaky], { handleToolErrors: true });
  return wrapGraph(createReactAgent({ llm, tools, name: "mixed" }), { warden });
}

/** Expected figures of task i, worked out from the script ($1 per million input tokens, $2 output). */
function expected(i: number) {
  switch (i % 4) {
    case 0:
    case 1:
      return {
        outcome: "success",
        costMicros: 1000 + i + 10 * 2 + 2000 + i + 20 * 2,
        tokens: { input: 3000 + 2 * i, output: 30 },
        failures: i % 4 === 1 ? 1 : 0,
        recovered: i % 4 === 1 ? 1 : 0,
        completedSubtasks: 1,
        trips: {},
      };
    case 2:
      return {
        outcome: "failure",
        costMicros: 0,
        tokens: { input: 0, output: 0 },
        failures: 1,
        recovered: 0,
        completedSubtasks: 0,
        trips: {},
      };
    default:
      // Three model calls; the third tool call is refused by the breaker.
      return {
        outcome: "failure",
        costMicros: 3 * (100 + 5 * 2),
        tokens: { input: 300, output: 15 },
        failures: 0,
        recovered: 0,
        completedSubtasks: 2,
        trips: { tool_calls: 1 },
      };
  }
}

const TASKS = 1000;
/**
 * The 1000 tasks take about 7 s on an idle machine and up to 34 s on a busy one (2 shared cores):
 * the test's own timeout leaves a wide margin above that. Nothing in it depends on timing.
 */
const LOAD_TIMEOUT_MS = 240_000;

describe("1000 concurrent tasks with mixed failures", () => {
  it(
    "keeps each task's spans and figures its own, and the aggregate equals the hand-worked sum",
    async () => {
      const { provider, spans } = memoryTracing();
      const warden = new Warden({
        tracerProvider: provider,
        captureContent: true,
        prices: TEST_PRICES,
        recovery: fast,
      });
      const summaries = new Map<number, TaskSummary>();
      warden.onTaskEnd((run) => {
        const s = run.summary();
        summaries.set(Number(s.conversationId?.slice(1)), s);
      });
      const agent = mixedAgent(warden);

      const results = await Promise.allSettled(
        Array.from({ length: TASKS }, (_, i) =>
          agent.invoke(user(`task-${i}`), {
            configurable: {
              thread_id: `t${i}`,
              ...(i % 4 === 3 ? { agentwarden: { limits: { maxToolCalls: 2 } } } : {}),
            },
          }),
        ),
      );

      // Each invoke got its own answer or its own error.
      for (const [i, r] of results.entries()) {
        if (i % 4 <= 1) {
          expect(r.status).toBe("fulfilled");
          expect(
            (r as PromiseFulfilledResult<{ messages: Array<{ content: unknown }> }>).value.messages.at(-1)?.content,
          ).toBe(`answer for task-${i}`);
        } else if (i % 4 === 2) {
          expect((r as PromiseRejectedResult).reason.message).toBe(`model refused task-${i}`);
        } else {
          const reason = (r as PromiseRejectedResult).reason as BreakerTripError;
          expect(reason).toBeInstanceOf(BreakerTripError);
          expect([reason.data.kind, reason.data.limit, reason.data.observed]).toEqual(["tool_calls", 2, 3]);
        }
      }

      // Each task's figures are exactly its own script's.
      expect(summaries.size).toBe(TASKS);
      let costMicros = 0;
      let completed = 0;
      for (let i = 0; i < TASKS; i++) {
        const s = summaries.get(i) as TaskSummary;
        const e = expected(i);
        expect(s.outcome).toBe(e.outcome);
        expect(s.costUsd).toBeCloseTo(e.costMicros / 1e6, 12);
        expect([s.tokens.input, s.tokens.output]).toEqual([e.tokens.input, e.tokens.output]);
        const failures = s.failures.tool + s.failures.model + s.failures.eval;
        const recovered = s.recovered.tool + s.recovered.model + s.recovered.eval;
        expect([failures, recovered, s.completedSubtasks]).toEqual([e.failures, e.recovered, e.completedSubtasks]);
        expect(s.trips).toEqual(e.trips);
        costMicros += e.costMicros;
        completed += e.completedSubtasks;
      }

      // Each trace is one task's: one tree of the shape of its kind, and no other task's text in it.
      const traces = new Map<string, ReadableSpan[]>();
      for (const s of spans()) traces.set(s.spanContext().traceId, [...(traces.get(s.spanContext().traceId) ?? []), s]);
      expect(traces.size).toBe(TASKS);
      const shapes = [
        [
          n("invoke_agent mixed", [
            n("agent", [n("chat test-model")]),
            n("tools", [n("execute_tool lookup")]),
            n("agent", [n("chat test-model")]),
          ]),
        ],
        [
          n("invoke_agent mixed", [
            n("agent", [n("chat test-model")]),
            n("tools", [n("execute_tool flaky", [], "ERROR"), n("recover flaky", [n("execute_tool flaky")])]),
            n("agent", [n("chat test-model")]),
          ]),
        ],
        [n("invoke_agent mixed", [n("agent", [n("chat test-model", [], "ERROR")], "ERROR")], "ERROR")],
        [
          n(
            "invoke_agent mixed",
            [
              n("agent", [n("chat test-model")]),
              n("tools", [n("execute_tool lookup")]),
              n("agent", [n("chat test-model")]),
              n("tools", [n("execute_tool lookup")]),
              n("agent", [n("chat test-model")]),
              // The trip is the tool step's error and the task's; the node it stopped is cancelled.
              n("tools", [n("execute_tool lookup", [], "ERROR")]),
            ],
            "ERROR",
          ),
        ],
      ];
      const seen = new Set<number>();
      for (const trace of traces.values()) {
        const mentioned = new Set<number>();
        for (const s of trace) {
          for (const value of Object.values(s.attributes)) {
            for (const m of String(value).matchAll(/task-(\d+)/g)) mentioned.add(Number(m[1]));
          }
        }
        const root = trace.find((s) => s.name === "invoke_agent mixed") as ReadableSpan;
        const i = Number(String(root.attributes["gen_ai.conversation.id"]).slice(1));
        expect([...mentioned]).toEqual([i]);
        expect(tree(trace)).toEqual(shapes[i % 4]);
        seen.add(i);
      }
      expect(seen.size).toBe(TASKS);

      // The aggregate is the sum of the tasks: ASF = 500 successes / 1000 ended; ERR = 250 recovered
      // of 500 failures (250 flaky tool failures, all recovered; 250 model failures, none; trips are
      // control flow, not failures).
      const c = warden.metrics?.snapshot().cumulative;
      expect(c?.asf).toBe(0.5);
      expect(c?.err).toBe(0.5);
      expect(c?.totals.completedSubtasks).toBe(completed);
      expect(c?.totals.costUsd).toBeCloseTo(costMicros / 1e6, 9);
      expect(c?.cpcs).toBeCloseTo(costMicros / 1e6 / completed, 12);
      expect(warden.stats()).toEqual({ tasksStarted: TASKS, tasksEnded: TASKS, openTasks: 0, telemetryErrors: {} });
    },
    LOAD_TIMEOUT_MS,
  );
});

describe("no per-run state outlives its task", () => {
  it("lets every Run be collected after end, error, abort, breaker trip and interrupt", async () => {
    const { provider } = memoryTracing();
    const warden = new Warden({
      tracerProvider: provider,
      captureContent: true,
      prices: TEST_PRICES,
      recovery: fast,
      toolBreaker: {},
      store: undefined,
    });
    // Counted when collected. (A WeakRef would keep its target alive for the rest of a job.)
    let ended = 0;
    let collected = 0;
    const registry = new FinalizationRegistry<string>(() => collected++);
    warden.onTaskEnd((run: Run) => {
      ended++;
      registry.register(run, run.name);
    });
    const agent = mixedAgent(warden);
    const Gate = Annotation.Root({ log: Annotation<string[]>({ reducer: (a, b) => [...a, ...b], default: () => [] }) });
    const gated = wrapGraph(
      new StateGraph(Gate)
        .addNode("ask", async () => ({ log: [`approved:${interrupt("approve?")}`] }))
        .addEdge(START, "ask")
        .compile({ name: "gate", checkpointer: new MemorySaver() }),
      { warden },
    );
    const slow = wrapGraph(
      createReactAgent({
        llm: new ScriptedChatModel({ model: "test-model", script: [{ content: "late", delayMs: 50 }] }),
        tools: [],
        name: "slow",
      }),
      { warden },
    );

    for (let round = 0; round < 25; round++) {
      const batch: Array<Promise<unknown>> = [];
      for (let k = 0; k < 4; k++) {
        const i = round * 4 + k;
        batch.push(
          agent
            .invoke(user(`task-${i}`), {
              configurable: {
                thread_id: `t${i}`,
                ...(k === 3 ? { agentwarden: { limits: { maxToolCalls: 2 } } } : {}),
              },
            })
            .catch(() => undefined),
        );
      }
      const controller = new AbortController();
      batch.push(slow.invoke(user("abort me"), { signal: controller.signal }).catch(() => undefined));
      setTimeout(() => controller.abort(), 5);
      batch.push(gated.invoke({ log: [] }, { configurable: { thread_id: `g${round}` } }));
      await Promise.all(batch);
    }
    // 4 mixed + 1 aborted + 1 interrupted per round.
    expect(ended).toBe(25 * 6);
    expect(warden.stats().openTasks).toBe(0);

    await provider.forceFlush();
    if (process.env.SNAP) {
      await new Promise((r) => setTimeout(r, 500));
      gc();
      (await import("node:v8")).writeHeapSnapshot("/tmp/load.heapsnapshot");
    }
    // Every Run (its steps, spans' owners, guard, recovery state) is garbage once its task ended.
    await vi.waitFor(
      () => {
        gc();
        expect(collected).toBe(ended);
      },
      { timeout: 5000, interval: 50 },
    );
  });
});

/** An exporter that answers after `delayMs`, or never, or with a failure; it counts the spans it was given. */
class TestExporter implements SpanExporter {
  received = 0;
  calls = 0;
  ids = new Set<string>();
  pending = 0;
  constructor(private readonly mode: { delayMs?: number; hang?: boolean; fail?: boolean }) {}
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.calls++;
    this.received += spans.length;
    for (const s of spans) this.ids.add(s.spanContext().spanId);
    if (this.mode.hang) return;
    this.pending++;
    setTimeout(() => {
      this.pending--;
      done(this.mode.fail ? { code: 1, error: new Error("collector unreachable") } : { code: 0 });
    }, this.mode.delayMs ?? 0);
  }
  async shutdown(): Promise<void> {}
}

/**
 * Runs `tasks` successful tasks (7 spans each) through a Warden whose spans go to a SpanQueue
 * reporting to the Warden, as the README shows; `reported` gets each reported source.
 */
async function echoTasks(exporter: SpanExporter, options: SpanQueueOptions, tasks: number) {
  useContextManager();
  const reported: string[] = [];
  let warden: Warden | undefined;
  const queue = new SpanQueue(exporter, { ...options, onError: (e, s) => warden?.reportError(e, s) });
  const provider = new BasicTracerProvider({ spanProcessors: [queue] });
  warden = new Warden({ tracerProvider: provider, onError: (_e, source) => reported.push(source) });
  const agent = mixedAgent(warden);
  const outs = await Promise.all(
    Array.from({ length: tasks }, (_, k) =>
      agent.invoke(user(`task-${4 * k}`), { configurable: { thread_id: `t${k}` } }),
    ),
  );
  for (const [k, o] of outs.entries()) expect(o.messages.at(-1)?.content).toBe(`answer for task-${4 * k}`);
  return { warden, provider, queue, reported };
}

const SPANS_PER_TASK = 7;

/** Queue counts once every one of `n` spans has been exported. */
const allExported = (n: number) => ({ accepted: n, queued: 0, inFlight: 0, exported: n, failed: 0, dropped: 0 });

describe("back-pressure", () => {
  it("loses no span below the queue size with a slow exporter", async () => {
    const exporter = new TestExporter({ delayMs: 30 });
    const { provider, queue } = await echoTasks(
      exporter,
      { maxQueueSize: 1000, maxExportBatchSize: 50, scheduledDelayMillis: 5 },
      100,
    );
    await provider.forceFlush();
    const produced = 100 * SPANS_PER_TASK;
    expect(queue.stats()).toEqual(allExported(produced));
    expect([exporter.received, exporter.ids.size]).toEqual([produced, produced]);
  });

  it("keeps a hanging exporter from holding the agent or the heap: the queue stays bounded and every drop is counted", async () => {
    const exporter = new TestExporter({ hang: true });
    const { warden, queue, reported } = await echoTasks(
      exporter,
      { maxQueueSize: 100, maxExportBatchSize: 20, scheduledDelayMillis: 1, exportTimeoutMillis: 600_000 },
      60,
    );
    // Every task finished although no export ever completed. One batch went out and hangs; the
    // queue is full; everything else was dropped, and counted, one by one.
    const produced = 60 * SPANS_PER_TASK;
    const stats = queue.stats();
    expect(stats).toEqual({
      accepted: 120,
      queued: 100,
      inFlight: 20,
      exported: 0,
      failed: 0,
      dropped: produced - 120,
    });
    expect(exporter.received).toBe(20);
    expect(reported.length).toBe(produced - 120);
    expect(new Set(reported)).toEqual(new Set(["spans:dropped"]));
    expect(warden.stats().telemetryErrors).toEqual({ "spans:dropped": produced - 120 });
  });

  it("counts a failing exporter's spans as failed and reports each failed export; the agent is unaffected", async () => {
    const exporter = new TestExporter({ fail: true });
    const { provider, warden, queue, reported } = await echoTasks(
      exporter,
      { maxQueueSize: 1000, maxExportBatchSize: 35, scheduledDelayMillis: 1 },
      20,
    );
    await provider.forceFlush().catch(() => undefined);
    await vi.waitFor(() => expect(exporter.pending).toBe(0));
    const produced = 20 * SPANS_PER_TASK;
    expect(queue.stats()).toEqual({
      accepted: produced,
      queued: 0,
      inFlight: 0,
      exported: 0,
      failed: produced,
      dropped: 0,
    });
    expect(exporter.received).toBe(produced);
    // One report per failed export call: the batches of at most 35 spans.
    expect(reported.length).toBe(exporter.calls);
    expect(exporter.calls).toBeGreaterThanOrEqual(produced / 35);
    expect(new Set(reported)).toEqual(new Set(["exporter:spans"]));
    expect(warden.stats().telemetryErrors).toEqual({ "exporter:spans": exporter.calls });
  });

  it("bounds what a hanging exporter holds even after export timeouts start the next batches", async () => {
    useContextManager();
    const exporter = new TestExporter({ hang: true });
    const queue = new SpanQueue(exporter, {
      maxQueueSize: 100,
      maxExportBatchSize: 20,
      scheduledDelayMillis: 1,
      exportTimeoutMillis: 5,
    });
    const agent = mixedAgent(new Warden({ tracerProvider: new BasicTracerProvider({ spanProcessors: [queue] }) }));
    // Two waves of 20 tasks; between and after them every export times out, and the SDK hands the
    // next batch to the exporter, which keeps them all.
    for (let wave = 0; wave < 2; wave++) {
      await Promise.all(Array.from({ length: 20 }, (_, k) => agent.invoke(user(`task-${4 * k}`))));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const s = queue.stats();
    expect(s.queued + s.inFlight).toBeLessThanOrEqual(120);
    expect(s.inFlight).toBe(exporter.received);
    expect(s.accepted).toBe(s.queued + s.inFlight);
    expect(s.accepted + s.dropped).toBe(2 * 20 * SPANS_PER_TASK);
  });

  it("counts a batch once when the exporter calls back twice, or calls back and then throws", async () => {
    const twice: SpanExporter = {
      export(_spans, done) {
        done({ code: 0 });
        done({ code: 1, error: new Error("again") });
        throw new Error("and throws");
      },
      async shutdown() {},
    };
    const { provider, queue, reported } = await echoTasks(twice, { maxQueueSize: 100, maxExportBatchSize: 10 }, 2);
    await provider.forceFlush();
    const produced = 2 * SPANS_PER_TASK;
    expect(queue.stats()).toEqual(allExported(produced));
    // The throw after a result is still reported, once per export call.
    expect(new Set(reported)).toEqual(new Set(["exporter:spans"]));
  });

  it("rejects bad queue options with the field named", () => {
    const exporter = new InMemorySpanExporter();
    expect(() => new SpanQueue(exporter, { maxQueueSize: 0 })).toThrow("SpanQueue maxQueueSize must be >= 1, got 0");
    expect(() => new SpanQueue(exporter, { maxQueueSize: 1.5 })).toThrow(
      "SpanQueue maxQueueSize must be an integer, got 1.5",
    );
    expect(() => new SpanQueue(exporter, { maxQueueSize: 10, maxExportBatchSize: 11 })).toThrow(
      "SpanQueue maxExportBatchSize (11) must be <= maxQueueSize (10)",
    );
    expect(() => new SpanQueue(exporter, { onError: "log" as never })).toThrow(TypeError);
  });
});
