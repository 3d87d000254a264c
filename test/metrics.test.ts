import { execFileSync } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import {
  AlwaysOffSampler,
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { describe, expect, it } from "vitest";
import {
  argusCounts,
  argusScores,
  emptyTotals,
  MetricsSubscriber,
  PriceTable,
  readStore,
  type TaskSummary,
  Warden,
} from "../src/index.js";
import { flakyTool, runBatch, scriptedAgent, TEST_PRICES, user } from "./support/agents.js";

describe("ASF, ERR and CPCS from a scripted batch", () => {
  it("computes every figure of the batch as worked out by hand", async () => {
    const warden = new Warden({ tracing: false, prices: TEST_PRICES });
    const summaries: TaskSummary[] = [];
    warden.onTaskEnd((run) => summaries.push(run.summary()));
    await runBatch(warden);

    expect(summaries.map((s) => [s.outcome, s.costUsd * 1e6])).toEqual([
      ["success", expect.closeTo(2400, 9)],
      ["failure", 0],
      ["failure", expect.closeTo(540, 9)],
      ["failure", expect.closeTo(120, 9)],
      ["success", expect.closeTo(1340, 9)],
    ]);
    const [t1, t2, t3, t4, t5] = summaries as [TaskSummary, TaskSummary, TaskSummary, TaskSummary, TaskSummary];
    expect(t1.tokens).toEqual({ input: 3000, output: 150, cacheRead: 1000, cacheWrite: 0 });
    expect(t2.failures).toEqual({ tool: 0, model: 1, eval: 0 });
    expect(t2.error).toEqual({ type: "Error", message: "model overloaded" });
    expect(t3.failures).toEqual({ tool: 1, model: 0, eval: 0 });
    expect([t3.subtasks, t3.completedSubtasks]).toEqual([1, 0]);
    expect(t4.failures).toEqual({ tool: 0, model: 0, eval: 1 });
    expect(t4.error).toEqual({ type: "eval_failed", message: "evaluator cites_source failed: no source cited" });
    expect([t5.subtasks, t5.completedSubtasks, t5.failures.tool, t5.recovered.tool]).toEqual([2, 1, 1, 1]);
    expect(t5.recoveredInjected).toEqual({ tool: 0, model: 0, eval: 0 }); // the agent retried: organic

    const snap = warden.metrics?.snapshot();
    if (!snap) throw new Error("metrics are on by default");
    const c = snap.cumulative;
    expect(c.asf).toBe(2 / 5);
    expect(c.err).toBe(1 / 4);
    expect(c.errByKind).toEqual({ tool: 1 / 2, model: 0, eval: 0 });
    expect(c.cpcs).toBeCloseTo(0.0044 / 2, 12);
    expect(c.costPerSuccessfulTask).toBeCloseTo((0.0024 + 0.00134) / 2, 12);
    expect(c.failuresPerTask).toBe(4 / 5);
    expect(c.totals).toMatchObject({
      tasks: 5,
      success: 2,
      failure: 3,
      subtasks: 4,
      completedSubtasks: 2,
      organicRecoveries: 1,
      injectedRecoveries: 0,
      costUnknownCalls: 0,
      estimatedUsageCalls: 0,
      tokens: { input: 4800, output: 250, cacheRead: 1000, cacheWrite: 0 },
      trips: {},
    });
    expect(snap.byTool).toEqual({
      search: {
        calls: 1,
        completed: 1,
        failures: 0,
        recovered: 0,
        costUsd: 0,
        durationMs: expect.any(Number),
        err: null,
        successRate: 1,
      },
      broken: {
        calls: 1,
        completed: 0,
        failures: 1,
        recovered: 0,
        costUsd: 0,
        durationMs: expect.any(Number),
        err: 0,
        successRate: 0,
      },
      flaky2: {
        calls: 2,
        completed: 1,
        failures: 1,
        recovered: 1,
        costUsd: 0,
        durationMs: expect.any(Number),
        err: 1,
        successRate: 0.5,
      },
    });
    expect(snap.byAgent.researcher?.asf).toBe(1);
    expect(snap.byAgent.researcher?.err).toBe(1);
    expect(snap.byAgent.researcher?.cpcs).toBeCloseTo(0.00134, 12);
    expect(snap.byAgent.assistant?.asf).toBe(1 / 4);
    expect(snap.byModel["test-model"]).toMatchObject({ calls: 8, failures: 1, recovered: 0, costUnknownCalls: 0 });
    expect(snap.byModel["test-model"]?.costUsd).toBeCloseTo(0.0044, 12);
    expect(snap.byNode).toEqual({
      agent: { runs: 8, failures: 1, durationMs: expect.any(Number) },
      tools: { runs: 4, failures: 1, durationMs: expect.any(Number) },
    });
  });

  it("counts every task even when its trace is sampled out", async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      sampler: new AlwaysOffSampler(),
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    const warden = new Warden({ tracerProvider: provider, prices: TEST_PRICES });
    await runBatch(warden);
    expect(exporter.getFinishedSpans()).toHaveLength(0);
    expect(warden.metrics?.snapshot().cumulative.totals.tasks).toBe(5);
    expect(warden.metrics?.snapshot().cumulative.asf).toBe(0.4);
  });
});

describe("cost", () => {
  it("prices cached reads and cache writes separately (Anthropic-style usage)", async () => {
    const warden = new Warden({ tracing: false, prices: TEST_PRICES });
    await scriptedAgent(
      warden,
      [{ content: "hi", usage: { input: 10_000, output: 500, cacheRead: 6_000, cacheWrite: 2_000 } }],
      [],
    ).invoke(user("x"));
    // uncached 10000 − 6000 − 2000 = 2000 at $1, 6000 read at $0.10, 2000 written at $1.25, 500 out at $2
    const expected = (2000 * 1 + 6000 * 0.1 + 2000 * 1.25 + 500 * 2) / 1e6;
    expect(warden.metrics?.snapshot().cumulative.totals.costUsd).toBeCloseTo(expected, 12);
  });

  it("an unknown model has unknown cost: counted and shown, never added as 0", async () => {
    const warden = new Warden({ tracing: false, prices: TEST_PRICES });
    let summary: TaskSummary | undefined;
    warden.onTaskEnd((run) => {
      summary = run.summary();
    });
    await scriptedAgent(
      warden,
      [
        { toolCalls: [{ name: "search", args: { q: "q" } }], usage: { input: 1000, output: 10 } },
        { content: "ok", usage: { input: 1000, output: 10 } },
      ],
      [flakyTool("search", 0)],
      { model: "mystery-model-9000" },
    ).invoke(user("x"));
    expect(summary?.costUnknownCalls).toBe(2);
    expect(summary?.costUsd).toBe(0);
    expect(summary?.models["mystery-model-9000"]).toMatchObject({ calls: 2, costUnknownCalls: 2, costUsd: 0 });
    const f = warden.metrics?.snapshot().cumulative;
    expect(f?.totals.costUnknownCalls).toBe(2);
    expect(f?.costComplete).toBe(false);
  });

  it("estimates usage the provider did not report, and marks it estimated", async () => {
    const warden = new Warden({ tracing: false, prices: TEST_PRICES });
    let summary: TaskSummary | undefined;
    warden.onTaskEnd((run) => {
      summary = run.summary();
    });
    await scriptedAgent(warden, [{ content: "y".repeat(20), usage: null }], []).invoke(user("x".repeat(40)));
    // 40 characters in, 20 out: ceil(40/4) = 10 and ceil(20/4) = 5 tokens; 10·$1 + 5·$2 per million
    expect(summary?.estimatedUsageCalls).toBe(1);
    expect(summary?.tokens).toEqual({ input: 10, output: 5, cacheRead: 0, cacheWrite: 0 });
    expect(summary?.costUsd).toBeCloseTo(20 / 1e6, 15);
    expect(summary?.steps.find((s) => s.k === "chat")).toMatchObject({ tok: [10, 5], est: true });
  });

  it("matches dated snapshots and provider prefixes to the table, longest entry first", () => {
    const t = new PriceTable();
    expect(t.lookup("gpt-4o-mini-2024-07-18")).toEqual(t.lookup("gpt-4o-mini"));
    expect(t.lookup("gpt-4o-2024-08-06")?.input).toBe(2.5);
    expect(t.lookup("openai/gpt-4.1-mini")?.input).toBe(0.4);
    expect(t.lookup("claude-3-5-haiku-20241022")?.cacheWrite).toBe(1);
    expect(t.lookup("gpt-4o-realtime")).toBeUndefined(); // not a dated snapshot of gpt-4o
    expect(
      new PriceTable({ "my-model": { input: 3, output: 4 } }).cost("my-model", { input: 1_000_000, output: 0 }),
    ).toBe(3);
  });

  it("rejects a negative or non-numeric price at construction, naming the model", () => {
    expect(() => new Warden({ prices: { "gpt-x": { input: -1, output: 1 } } })).toThrow(RangeError);
    expect(() => new Warden({ prices: { "gpt-x": { input: -1, output: 1 } } })).toThrow(
      'price for model "gpt-x": input must be a finite number >= 0, got -1',
    );
    expect(() => new Warden({ prices: { "claude-y": { input: 1, output: "2" as unknown as number } } })).toThrow(
      'price for model "claude-y": output must be a number of USD per million tokens, got "2"',
    );
    expect(() => new Warden({ prices: { "m-z": { input: Number.NaN, output: 1 } } })).toThrow(
      /"m-z": input must be a number/,
    );
    expect(() => new Warden({ prices: { "m-w": null as never } })).toThrow(/price for model "m-w" must be an object/);
  });
});

describe("zero denominators", () => {
  it("gives null for every ratio when nothing has happened", () => {
    const warden = new Warden({ tracing: false });
    const c = warden.metrics?.snapshot().cumulative;
    expect([c?.asf, c?.err, c?.cpcs, c?.costPerSuccessfulTask, c?.failuresPerTask]).toEqual([
      null,
      null,
      null,
      null,
      null,
    ]);
    expect(c?.errByKind).toEqual({ tool: null, model: null, eval: null });
  });

  it("ERR is null (not 1) with no failures; CPCS is null with no completed subtask while the cost is still shown", async () => {
    const warden = new Warden({ tracing: false, prices: TEST_PRICES });
    await scriptedAgent(warden, [{ content: "no tools", usage: { input: 100, output: 0 } }], []).invoke(user("x"));
    const c = warden.metrics?.snapshot().cumulative;
    expect(c?.asf).toBe(1);
    expect(c?.err).toBeNull();
    expect(c?.totals.failures).toEqual({ tool: 0, model: 0, eval: 0 });
    expect(c?.cpcs).toBeNull();
    expect(c?.totals.costUsd).toBeCloseTo(100 / 1e6, 15);
  });

  it("cancelled and interrupted tasks are reported but not in ASF", () => {
    const m = new MetricsSubscriber({ windowTasks: 10, windowSeconds: 60, maxKeys: 10, meterProvider: undefined });
    m.add(summary({ outcome: "cancelled" }));
    m.add(summary({ outcome: "interrupted" }));
    const c = m.snapshot().cumulative;
    expect(c.asf).toBeNull();
    expect(c.totals).toMatchObject({ tasks: 2, cancelled: 1, interrupted: 1 });
  });
});

describe("windows and bounded memory", () => {
  it("keeps the last N tasks and the last T seconds", () => {
    let now = 1_000_000;
    const m = new MetricsSubscriber(
      { windowTasks: 2, windowSeconds: 60, maxKeys: 10, meterProvider: undefined },
      () => now,
    );
    m.add(summary({ outcome: "failure" }));
    now += 30_000;
    m.add(summary({ outcome: "success" }));
    now += 31_000;
    m.add(summary({ outcome: "success" }));
    const s = m.snapshot();
    expect(s.cumulative.asf).toBe(2 / 3);
    expect(s.lastTasks.asf).toBe(1); // the failure was evicted
    expect(s.lastTasks.totals.tasks).toBe(2);
    expect(s.lastSeconds.totals.tasks).toBe(2); // 61 s after the first task: it left the 60 s window
    now += 120_000;
    expect(m.snapshot().lastSeconds.totals.tasks).toBe(0);
    expect(m.snapshot().lastSeconds.asf).toBeNull();
  });

  it("folds names beyond maxKeys into _other", () => {
    const m = new MetricsSubscriber({ windowTasks: 2, windowSeconds: 60, maxKeys: 2, meterProvider: undefined });
    for (const agent of ["a", "b", "c", "d"]) m.add(summary({ agent }));
    expect(Object.keys(m.snapshot().byAgent)).toEqual(["a", "b", "_other"]);
    expect(m.snapshot().byAgent._other?.totals.tasks).toBe(2);
  });
});

describe("OpenTelemetry metrics", () => {
  it("exports task, subtask, failure, recovery, cost and token counters through the user's MeterProvider", async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
    const meterProvider = new MeterProvider({ readers: [reader] });
    const warden = new Warden({ tracing: false, prices: TEST_PRICES, meterProvider });
    await runBatch(warden);
    await reader.forceFlush();
    const metrics = exporter.getMetrics().flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics));
    const points = (name: string) => {
      const m = metrics.find((x) => x.descriptor.name === name);
      if (!m) throw new Error(`no metric ${name}`);
      return m.dataPoints.map((p) => ({ attributes: p.attributes, value: p.value as number }));
    };
    const sum = (name: string, where: Record<string, string> = {}) =>
      points(name)
        .filter((p) => Object.entries(where).every(([k, v]) => p.attributes[k] === v))
        .reduce((a, p) => a + p.value, 0);
    expect(sum("agentwarden.tasks", { outcome: "success" })).toBe(2);
    expect(sum("agentwarden.tasks", { outcome: "failure" })).toBe(3);
    expect(sum("agentwarden.subtasks")).toBe(4);
    expect(sum("agentwarden.subtasks.completed")).toBe(2);
    expect(sum("agentwarden.failures", { kind: "tool" })).toBe(2);
    expect(sum("agentwarden.failures", { kind: "model" })).toBe(1);
    expect(sum("agentwarden.failures", { kind: "eval" })).toBe(1);
    expect(sum("agentwarden.recoveries", { kind: "tool", how: "organic" })).toBe(1);
    expect(sum("agentwarden.cost.usd")).toBeCloseTo(0.0044, 12);
    expect(sum("agentwarden.tokens", { type: "cache_read" })).toBe(1000);
    expect(sum("gen_ai.client.inference.usage.input_tokens")).toBe(4800);
    // Attributes stay low-cardinality: agent, outcome, kind, tool, model, type, finish reason — never ids or text.
    const keys = new Set(
      metrics
        .filter((m) => m.descriptor.name.startsWith("agentwarden"))
        .flatMap((m) => m.dataPoints.flatMap((p) => Object.keys(p.attributes))),
    );
    // In-task evaluators add their name, source (`inline`) and result.
    expect([...keys].sort()).toEqual([
      "agent",
      "finish_reason",
      "how",
      "kind",
      "model",
      "name",
      "outcome",
      "result",
      "source",
      "tool",
      "type",
    ]);
    const inference = metrics.find((m) => m.descriptor.name === "gen_ai.client.inference.duration");
    expect(inference?.descriptor.unit).toBe("s");
    await meterProvider.shutdown();
  });

  it("two Wardens on one MeterProvider: the token counters add up both", async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
    const meterProvider = new MeterProvider({ readers: [reader] });
    const a = new Warden({ tracing: false, prices: TEST_PRICES, meterProvider });
    const b = new Warden({ tracing: false, prices: TEST_PRICES, meterProvider });
    await runBatch(a);
    await runBatch(b);
    await reader.forceFlush();
    const metrics = exporter.getMetrics().flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics));
    const total = (name: string) =>
      (metrics.find((m) => m.descriptor.name === name)?.dataPoints ?? []).reduce((n, p) => n + (p.value as number), 0);
    // One batch is 4,800 input tokens (the test above); the batch, once in each Warden: 9,600.
    expect(total("gen_ai.client.inference.usage.input_tokens")).toBe(9600);
    expect(total("agentwarden.tasks")).toBe(10);
    await meterProvider.shutdown();
  });
});

describe("run store and report", () => {
  it("writes one JSON line per task and the report prints ASF, ERR and CPCS from it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "aw-store-"));
    const path = join(dir, "runs.jsonl");
    const warden = new Warden({ tracing: false, prices: TEST_PRICES, store: path });
    await runBatch(warden);
    const lines = readFileSync(path, "utf8").trimEnd().split("\n");
    expect(lines).toHaveLength(5);
    const read = readStore(path);
    expect(read.errors).toEqual([]);
    expect(read.summaries.map((s) => s.outcome)).toEqual(["success", "failure", "failure", "failure", "success"]);
    expect(read.summaries[4]?.steps.map((s) => `${s.k}:${s.n}:${s.s}`)).toEqual([
      "agent:researcher:ok",
      "node:agent:ok",
      "chat:test-model:ok",
      "node:tools:ok",
      "tool:flaky2:error",
      "node:agent:ok",
      "chat:test-model:ok",
      "node:tools:ok",
      "tool:flaky2:ok",
      "node:agent:ok",
      "chat:test-model:ok",
    ]);

    const out = execFileSync("npx", ["tsx", "src/cli/main.ts", "report", path], {
      encoding: "utf8",
    });
    expect(out).toContain("tasks: 5 (2 success, 3 failure, 0 cancelled, 0 interrupted)");
    expect(out).toMatch(/ASF\s+40\.0%\s+2 of 5 ended tasks succeeded/);
    expect(out).toMatch(
      /ERR\s+25\.0%\s+1 of 4 failures recovered \(tool 1\/2, model 0\/1, eval 0\/1; 0 injected, 1 organic\)/,
    );
    expect(out).toMatch(/CPCS\s+\$0\.002200\s+\$0\.004400 over 2 completed subtasks/);
    expect(out).toMatch(/researcher\s+1\s+100\.0%\s+100\.0%/);
    expect(out).toMatch(/flaky2\s+2\s+1\s+1\s+1\s+100\.0%/);
    expect(out).toContain("ARGUS scoring (argus-llm formulas, for comparison)");
  });

  it("reports a corrupt or truncated line with its line number, skips it, and reads every other line", () => {
    const dir = mkdtempSync(join(tmpdir(), "aw-store-"));
    const path = join(dir, "runs.jsonl");
    const good = (agent: string) => JSON.stringify(summary({ agent }));
    writeFileSync(path, `${good("a")}\n{"v":1,"id":"x"\n${good("b")}\n[1,2]\n\n${good("c")}\n`);
    appendFileSync(path, good("d").slice(0, 40)); // a writer that died mid-line
    const read = readStore(path);
    expect(read.summaries.map((s) => s.agent)).toEqual(["a", "b", "c"]);
    expect(read.errors).toEqual([
      { line: 2, message: expect.stringMatching(/^not JSON/) },
      { line: 4, message: "not a task summary (expected an object)" },
      { line: 7, message: "truncated line (no newline): skipped" },
    ]);
    // A reader following a live file leaves the partial line for later instead.
    const live = readStore(path, { final: false });
    expect(live.errors).toHaveLength(2);
    appendFileSync(path, `${good("d").slice(40)}\n`);
    const next = readStore(path, { offset: live.offset, lines: live.lines, final: false });
    expect(next.summaries.map((s) => s.agent)).toEqual(["d"]);
    expect(next.lines).toBe(7);
  });
});

describe("ARGUS compatibility", () => {
  it("reproduces the worked values of the brief exactly", () => {
    const row = (
      planned: number,
      completed: number,
      failed: number,
      recovered: number,
      retries: number,
      costUsd: number,
    ) => argusScores({ planned, completed, failed, recovered, retries, costUsd });
    expect(row(8, 7, 2, 1, 3, 0.45)).toEqual({ asf: 0.6316, err: 0.54, cpcs: 0.3571 });
    expect(row(10, 7, 3, 2, 5, 1.2)).toEqual({ asf: 0.4655, err: 0.7167, cpcs: 0 });
    expect(row(10, 10, 0, 0, 0, 0.5)).toEqual({ asf: 1, err: 1, cpcs: 0.5 });
    expect(row(10, 0, 10, 0, 15, 2)).toEqual({ asf: 0, err: 0, cpcs: 0 });
    expect(row(0, 0, 0, 0, 0, 0)).toEqual({ asf: 0.5, err: 1, cpcs: 0 });
  });

  it("derives ARGUS's counts from the ledger's totals", async () => {
    const warden = new Warden({ tracing: false, prices: TEST_PRICES });
    await runBatch(warden);
    const totals = warden.metrics?.snapshot().cumulative.totals ?? emptyTotals();
    const counts = argusCounts(totals);
    expect(counts).toEqual({
      planned: 4,
      completed: 2,
      failed: 4,
      recovered: 1,
      retries: 0,
      costUsd: expect.closeTo(0.0044, 12),
    });
    // P=4, C=2, F=4, R=1, N=0: ASF = 0.5 · (1 − 1) · 1 = 0; ERR = 0.25 + 0.1 = 0.35; CPCS = 1 − 0.0022/0.1 = 0.978
    expect(argusScores(counts)).toEqual({ asf: 0, err: 0.35, cpcs: 0.978 });
  });
});

function summary(over: Partial<TaskSummary>): TaskSummary {
  return {
    v: 1,
    id: "t",
    agent: "a",
    kind: "agent",
    outcome: "success",
    start: 0,
    durationMs: 1,
    costUsd: 0,
    costUnknownCalls: 0,
    estimatedUsageCalls: 0,
    tokens: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
    subtasks: 0,
    completedSubtasks: 0,
    failures: { tool: 0, model: 0, eval: 0 },
    recovered: { tool: 0, model: 0, eval: 0 },
    recoveredInjected: { tool: 0, model: 0, eval: 0 },
    trips: {},
    retries: 0,
    tools: {},
    models: {},
    nodes: {},
    steps: [],
    ...over,
  };
}
