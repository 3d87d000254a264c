import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tool } from "@langchain/core/tools";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { wrapGraph } from "../adapters/langgraph/index.js";
import { RedisStateStore } from "../adapters/redis/index.js";
import { ScriptedChatModel } from "../adapters/testing/index.js";
import { StoreFollower } from "../src/dashboard/data.js";
import {
  type BreakerTripError,
  isBreakerTrip,
  isStateUnavailable,
  MemoryStateStore,
  StateUnavailableError,
  Warden,
} from "../src/index.js";
import { TEST_PRICES, user } from "./support/agents.js";
import { memoryTracing } from "./support/otel.js";

// The in-process side of issue 16: reservations, rate limits and their figures on MemoryStateStore
// (the fleet side, on Redis with 8 processes, is test/fleet.test.ts).

async function tripOf(promise: Promise<unknown>): Promise<BreakerTripError> {
  try {
    await promise;
  } catch (error) {
    if (isBreakerTrip(error)) return error;
    throw error;
  }
  throw new Error("expected a BreakerTripError");
}

describe("MemoryStateStore reservations", () => {
  const lines = [
    { key: "task", limit: 10, windowMs: 60_000 },
    { key: "tenant", limit: 5, windowMs: 60_000 },
  ];

  it("reserves against every line at once, or on none", () => {
    const s = new MemoryStateStore();
    expect(s.reserve("a", lines, 3, 0, 1000)).toEqual({ ok: true });
    // 3 reserved on both; 3 more would fit the task (6 ≤ 10) but not the tenant (6 > 5): refused by line 1.
    expect(s.reserve("b", lines, 3, 1, 1000)).toEqual({ ok: false, index: 1, spent: 0, reserved: 3 });
    // Nothing of the refused one was reserved on line 0: 3 + 7 = 10 fits the task, the tenant refuses.
    expect(s.reserve("c", [lines[0] as (typeof lines)[0]], 7, 2, 1000)).toEqual({ ok: true });
  });

  it("settles to the actual cost, and a reservation never settled expires", () => {
    const s = new MemoryStateStore();
    s.reserve("a", lines, 4, 0, 1000);
    s.settle("a", lines, 1.5, 10);
    expect(s.windowSum("tenant", 60_000, 10)).toBe(1.5);
    expect(s.reserve("b", lines, 3.5, 20, 1000)).toEqual({ ok: true }); // 1.5 + 3.5 = 5
    expect(s.reserve("c", lines, 0.5, 30, 1000)).toMatchObject({ ok: false, spent: 1.5, reserved: 3.5 });
    // "b"'s worker died: at 20 + 1000 its reservation is gone.
    expect(s.reserve("d", lines, 3.5, 1020, 1000)).toEqual({ ok: true });
  });

  it("GCRA: a burst of the limit, then one per interval", () => {
    const s = new MemoryStateStore();
    for (let i = 0; i < 10; i++) expect(s.take("k", 1, 10, 1000, 0).ok).toBe(true);
    expect(s.take("k", 1, 10, 1000, 0)).toMatchObject({ ok: false, retryAfterMs: 100 });
    expect(s.take("k", 1, 10, 1000, 99).ok).toBe(false);
    expect(s.take("k", 1, 10, 1000, 100).ok).toBe(true);
    expect(s.take("k", 1, 10, 1000, 100).ok).toBe(false);
  });
});

describe("shared limits in one process", () => {
  const run = (warden: Warden, tenant = "acme") => {
    const llm = new ScriptedChatModel({
      model: "test-model",
      script: [{ content: "ok", usage: { input: 1000, output: 500 } }],
    });
    const agent = wrapGraph(createReactAgent({ llm, tools: [] }), { warden });
    return { llm, result: agent.invoke(user("x"), { configurable: { agentwarden: { tenant } } }) };
  };

  it("concurrent tasks of one process cannot overspend a shared budget: the worst cases are reserved", async () => {
    // Four tasks started together, each one call. Its worst case, reserved before it: the input
    // estimated (a few tokens, $1/M) + 500 output tokens ($2/M) ≈ $0.001. Budget $0.0025: the
    // reservations admit 2 (2 in flight + a third's worst case > $0.0025); checking the spend alone
    // (nothing spent yet while they all start) admitted all 4.
    const store = join(mkdtempSync(join(tmpdir(), "aw-shared-")), "runs.jsonl");
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
    const warden = new Warden({
      tracing: false,
      prices: TEST_PRICES,
      meterProvider: new MeterProvider({ readers: [reader] }),
      store,
      defaultMaxOutputTokens: 500,
      sharedBudgets: [{ name: "tenant-hourly", key: "tenant", maxCostUsd: 0.0025, windowMs: 3_600_000 }],
    });
    const runs = [run(warden), run(warden), run(warden), run(warden)];
    const settled = await Promise.allSettled(runs.map((r) => r.result));
    const called = runs.reduce((n, r) => n + r.llm.calls, 0);
    expect(called).toBe(2);
    expect(settled.filter((s) => s.status === "rejected")).toHaveLength(2);
    expect(warden.metrics?.snapshot().fleet).toMatchObject({ reservations: 2, refusals: 2, fallbacks: 0 });
    expect(warden.metrics?.snapshot().cumulative.totals).toMatchObject({
      budgetReservations: 2,
      budgetRefusals: 2,
      stateFallbacks: 0,
    });
    await reader.forceFlush();
    const decisions = exporter
      .getMetrics()
      .flatMap((r) => r.scopeMetrics.flatMap((m) => m.metrics))
      .find((m) => m.descriptor.name === "agentwarden.budget.decisions");
    expect(
      Object.fromEntries((decisions?.dataPoints ?? []).map((p) => [String(p.attributes.outcome), p.value])),
    ).toEqual({ reserved: 2, refused: 2 });
    // The run store and the dashboard's figures, from the tasks' summaries.
    await warden.shutdown();
    const data = await new StoreFollower(store).data();
    expect(data.cumulative.totals).toMatchObject({ budgetReservations: 2, budgetRefusals: 2, stateFallbacks: 0 });
  });

  it("a per-model request rate limit trips once the burst is spent (maxWaitMs 0)", async () => {
    const warden = new Warden({
      tracing: false,
      prices: TEST_PRICES,
      rateLimits: [{ name: "rpm", key: "model", requestsPerMinute: 2 }],
    });
    await run(warden).result;
    await run(warden).result;
    const third = run(warden);
    const trip = await tripOf(third.result);
    expect(trip.data).toMatchObject({ kind: "rate_limit", subject: "rpm", limit: 2 });
    expect(third.llm.calls).toBe(0);
    expect(trip.data.reason).toMatch(/room in \d+ ms, more than the 0 ms it may wait/);
  });
});

describe("RedisStateStore when Redis does not answer", () => {
  const line = [{ key: "tenant", limit: 1, windowMs: 60_000 }];
  const hanging = { sendCommand: () => new Promise<never>(() => {}) };
  const down = { sendCommand: () => Promise.reject(new Error("The client is closed")) };

  it("failOpen: a hanging server is given up after timeoutMs, the decision is made locally and counted", async () => {
    const fallbacks: string[] = [];
    const store = new RedisStateStore(hanging, { timeoutMs: 20, onFallback: (op) => fallbacks.push(op) });
    expect(await store.reserve("a", line, 0.6, 0, 1000)).toEqual({ ok: true, local: true });
    expect(await store.reserve("b", line, 0.6, 0, 1000)).toMatchObject({ ok: false, local: true, reserved: 0.6 });
    expect(store.fallbacks).toBe(2);
    expect(fallbacks).toEqual(["reserve", "reserve"]);
  });

  it("failClosed: refused with a StateUnavailableError saying why", async () => {
    const store = new RedisStateStore(down, { onUnavailable: "failClosed" });
    const error = await store.take("k", 1, 10, 1000, 0).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateUnavailableError);
    expect(isStateUnavailable(error)).toBe(true);
    expect((error as StateUnavailableError).data).toEqual({ operation: "take", reason: "The client is closed" });
  });

  it("a rate limit's decisions with Redis down count in the fleet figures like a budget's: fallbacks, unavailable", async () => {
    const oneCall = async (warden: Warden) => {
      const llm = new ScriptedChatModel({
        model: "test-model",
        script: [{ content: "ok", usage: { input: 10, output: 5 } }],
      });
      return wrapGraph(createReactAgent({ llm, tools: [] }), { warden }).invoke(user("x"));
    };
    const limits = [{ name: "rpm", key: "model" as const, requestsPerMinute: 100, tokensPerMinute: 100_000 }];
    // failOpen: each of the two rate decisions (requests, tokens) of the one model call is made locally.
    const open = new Warden({
      tracing: false,
      state: new RedisStateStore(down, { timeoutMs: 20 }),
      rateLimits: limits,
    });
    await oneCall(open);
    expect(open.metrics?.snapshot().fleet).toEqual({
      reservations: 0,
      refusals: 0,
      fallbacks: 2,
      unavailable: 0,
      rateLimited: 0,
    });
    expect(open.metrics?.snapshot().cumulative.totals.stateFallbacks).toBe(2);
    // failClosed: the first decision is refused (a state_unavailable trip) and counted as unavailable.
    const closed = new Warden({
      tracing: false,
      state: new RedisStateStore(down, { onUnavailable: "failClosed" }),
      rateLimits: limits,
    });
    const trip = await tripOf(oneCall(closed));
    expect(trip.data).toMatchObject({ kind: "state_unavailable", subject: "rpm" });
    expect(closed.metrics?.snapshot().fleet).toEqual({
      reservations: 0,
      refusals: 0,
      fallbacks: 0,
      unavailable: 1,
      rateLimited: 0,
    });
  });
});

describe("rate limits wait up to maxWaitMs, then trip", () => {
  const once = (warden: Warden) => {
    const llm = new ScriptedChatModel({
      model: "test-model",
      script: [{ content: "ok", usage: { input: 10, output: 5 } }],
    });
    const agent = wrapGraph(createReactAgent({ llm, tools: [] }), { warden });
    return { llm, result: agent.invoke(user("x")) };
  };
  // 60 a minute: one a second once the burst of 60 is spent. The burst is spent beforehand on the
  // same key, so the next call needs about a second of room.
  const spent = () => {
    const state = new MemoryStateStore();
    expect(state.take("rate\u0000rpm\u0000requests\u0000test-model", 60, 60, 60_000, Date.now()).ok).toBe(true);
    return state;
  };

  it("waits for room when maxWaitMs allows it", async () => {
    const warden = new Warden({
      tracing: false,
      state: spent(),
      rateLimits: [{ name: "rpm", key: "model", requestsPerMinute: 60, maxWaitMs: 10_000 }],
    });
    const run = once(warden);
    await run.result;
    expect(run.llm.calls).toBe(1);
  });

  it("trips when the room comes later than maxWaitMs", async () => {
    const warden = new Warden({
      tracing: false,
      state: spent(),
      rateLimits: [{ name: "rpm", key: "model", requestsPerMinute: 60, maxWaitMs: 100 }],
    });
    const run = once(warden);
    const trip = await tripOf(run.result);
    expect(trip.data).toMatchObject({ kind: "rate_limit", subject: "rpm" });
    expect(run.llm.calls).toBe(0);
  });
});

describe("tokens per minute", () => {
  it("counts each call's worst case: a call that could use more than the minute allows trips", async () => {
    // Worst case: the input estimate + 500 output tokens, more than 400 tokens a minute admits at once.
    const warden = new Warden({
      tracing: false,
      defaultMaxOutputTokens: 500,
      rateLimits: [{ name: "tpm", key: "model", tokensPerMinute: 400 }],
    });
    const llm = new ScriptedChatModel({ model: "test-model", script: [{ content: "ok" }] });
    const trip = await tripOf(wrapGraph(createReactAgent({ llm, tools: [] }), { warden }).invoke(user("x")));
    expect(trip.data).toMatchObject({ kind: "rate_limit", subject: "tpm", limit: 400 });
    expect(trip.data.reason).toContain("400 tokens per minute");
    expect(llm.calls).toBe(0);
  });
});

describe("a budget per task", () => {
  it("key: task limits each task alone", async () => {
    // Worst case of each call: ~$0.001 (500 output tokens at $2/M + the input estimate). $0.0015 a task:
    // a task's first call fits, its second does not; another task starts afresh.
    const warden = new Warden({
      tracing: false,
      prices: TEST_PRICES,
      defaultMaxOutputTokens: 500,
      sharedBudgets: [{ name: "per-task", key: "task", maxCostUsd: 0.0015, windowMs: 3_600_000 }],
    });
    const twoCalls = () => {
      const llm = new ScriptedChatModel({
        model: "test-model",
        script: [
          { toolCalls: [{ name: "noop", args: {} }], usage: { input: 10, output: 500 } },
          { content: "done", usage: { input: 10, output: 5 } },
        ],
      });
      const noop = tool(async () => "ok", { name: "noop", description: "does nothing", schema: z.object({}) });
      return { llm, result: wrapGraph(createReactAgent({ llm, tools: [noop] }), { warden }).invoke(user("x")) };
    };
    for (let i = 0; i < 2; i++) {
      const run = twoCalls();
      const trip = await tripOf(run.result);
      expect(trip.data).toMatchObject({ kind: "shared_budget", subject: "per-task" });
      expect(run.llm.calls).toBe(1);
    }
  });
});

describe("the figures of each decision on the model call's span", () => {
  it("agentwarden.budget.reserve and .settle, with the reserved and the actual cost", async () => {
    const { provider, spans } = memoryTracing();
    const warden = new Warden({
      tracerProvider: provider,
      prices: TEST_PRICES,
      defaultMaxOutputTokens: 500,
      sharedBudgets: [{ name: "tenant-hourly", key: "tenant", maxCostUsd: 1, windowMs: 3_600_000 }],
    });
    const llm = new ScriptedChatModel({
      model: "test-model",
      script: [{ content: "ok", usage: { input: 1000, output: 100 } }],
    });
    await wrapGraph(createReactAgent({ llm, tools: [] }), { warden }).invoke(user("x"), {
      configurable: { agentwarden: { tenant: "acme" } },
    });
    await warden.shutdown();
    const chat = spans().find((s) => s.name.startsWith("chat"));
    const root = spans().find((s) => s.parentSpanContext === undefined);
    // The reservation on the model call's span; the settlement, made once the call has ended, on the task's.
    const events = Object.fromEntries(
      [...(chat?.events ?? []), ...(root?.events ?? [])].map((e) => [e.name, e.attributes]),
    );
    expect(events["agentwarden.budget.reserve"]).toMatchObject({ "agentwarden.budget.outcome": "reserved" });
    // Worst case: the input estimate (a few tokens at $1/M) + 500 output tokens at $2/M.
    const reserved = events["agentwarden.budget.reserve"]?.["agentwarden.budget.reserved_usd"] as number;
    expect(reserved).toBeGreaterThan(0.001);
    expect(reserved).toBeLessThan(0.0011);
    // Actual: 1000 · $1/M + 100 · $2/M = $0.0012.
    expect(events["agentwarden.budget.settle"]).toMatchObject({
      "agentwarden.budget.reserved_usd": reserved,
      "agentwarden.budget.call": "test-model",
    });
    expect(events["agentwarden.budget.settle"]?.["agentwarden.budget.actual_usd"]).toBeCloseTo(0.0012, 12);
  });
});
