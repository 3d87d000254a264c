import { spawnSync } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Annotation, StateGraph } from "@langchain/langgraph";
import { createReactAgent, ToolNode } from "@langchain/langgraph/prebuilt";
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import { describe, expect, it } from "vitest";
import { wrapGraph } from "../adapters/langgraph/index.js";
import { ScriptedChatModel, type ScriptedTurn } from "../adapters/testing/index.js";
import {
  type EvalRecord,
  type OnlineEvaluator,
  readStore,
  recordFeedback,
  reportStore,
  sampled,
  type TaskSummary,
  Warden,
} from "../src/index.js";
import { user } from "./support/agents.js";
import { memoryTracing } from "./support/otel.js";

const tmp = () => mkdtempSync(join(tmpdir(), "aw-quality-"));
/** A ReAct agent with a scripted model (no tools): each invoke is one task that answers `content`. */
function answering(warden: Warden, turns: ScriptedTurn[], options: { name?: string; version?: string } = {}) {
  const llm = new ScriptedChatModel({ script: turns, model: "test-model" });
  const graph = createReactAgent({ llm, tools: new ToolNode([]), name: options.name ?? "assistant" });
  return wrapGraph(graph, { warden, ...(options.version !== undefined ? { version: options.version } : {}) });
}

/** A one-node workflow that succeeds, or throws when its input says `fail`. */
function pass_fail(warden: Warden, version?: string) {
  const graph = new StateGraph(Annotation.Root({ fail: Annotation<boolean>(), out: Annotation<string>() }))
    .addNode("work", (s) => {
      if (s.fail) throw new Error("work failed");
      return { out: "ok" };
    })
    .addEdge("__start__", "work")
    .compile({ name: "batch" });
  return wrapGraph(graph, { warden, ...(version ? { version } : {}) });
}

/** A gate the test opens by hand: a judge waiting on it is as slow as the test wants. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}

const lastText = (state: unknown) =>
  String((state as { messages: Array<{ content: unknown }> }).messages.at(-1)?.content ?? "");

describe("versions", () => {
  it("tags the task's spans, summary and metrics with the version; an invoke may override it", async () => {
    const { provider, spans } = memoryTracing();
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    const meterProvider = new MeterProvider({ readers: [reader] });
    const warden = new Warden({
      tracerProvider: provider,
      meterProvider,
      prices: { "test-model": { input: 1, output: 2 } },
    });
    const ended: TaskSummary[] = [];
    warden.onTaskEnd((run) => ended.push(run.summary()));
    const agent = answering(
      warden,
      [
        { content: "one", usage: { input: 10, output: 5 } },
        { content: "two", usage: { input: 10, output: 5 }, finishReason: "length" },
      ],
      { version: "prompt-v1" },
    );
    await agent.invoke(user("a"));
    await agent.invoke(user("b"), { configurable: { agentwarden: { version: "prompt-v2" } } });
    expect(ended.map((s) => s.version)).toEqual(["prompt-v1", "prompt-v2"]);
    expect(ended.map((s) => s.finishReasons)).toEqual([{ stop: 1 }, { length: 1 }]);
    const root = spans().filter((s) => s.name.startsWith("invoke_agent"));
    expect(root.map((s) => s.attributes["gen_ai.agent.version"])).toEqual(["prompt-v1", "prompt-v2"]);
    // every span of the task carries the version, the model call's too
    const chats = spans().filter((s) => s.attributes["gen_ai.operation.name"] === "chat");
    expect(chats.map((s) => s.attributes["agentwarden.version"])).toEqual(["prompt-v1", "prompt-v2"]);
    expect(chats.map((s) => s.attributes["gen_ai.agent.version"])).toEqual([undefined, undefined]);
    const snap = warden.metrics?.snapshot();
    expect(Object.keys(snap?.byVersion ?? {})).toEqual(["prompt-v1", "prompt-v2"]);
    expect(snap?.byVersion["prompt-v1"]?.totals.success).toBe(1);
    await reader.forceFlush();
    const metrics = exporter.getMetrics().flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics));
    const points = (name: string) => metrics.find((m) => m.descriptor.name === name)?.dataPoints ?? [];
    expect(points("agentwarden.tasks").map((p) => p.attributes)).toEqual([
      { agent: "assistant", version: "prompt-v1", outcome: "success" },
      { agent: "assistant", version: "prompt-v2", outcome: "success" },
    ]);
    expect(points("agentwarden.model.finish_reasons").map((p) => [p.attributes.finish_reason, p.value])).toEqual([
      ["stop", 1],
      ["length", 1],
    ]);
    // cost per task: (10·1 + 5·2) µ$ = 20 µ$ each, one observation per version
    const cost = points("agentwarden.task.cost.usd").map((p) => p.value as { count: number; sum: number });
    expect(cost.map((c) => c.count)).toEqual([1, 1]);
    expect(cost[0]?.sum).toBeCloseTo(0.00002, 12);
    await meterProvider.shutdown();
  });

  it("refuses a version that is not a short non-empty string", () => {
    const warden = new Warden({ tracing: false });
    expect(() => answering(warden, [], { version: "" })).toThrow(
      /option version must be a non-empty string of at most 128 characters/,
    );
    expect(() => pass_fail(warden, "x".repeat(129))).toThrow(TypeError);
  });
});

describe("online evaluation", () => {
  it("samples consistently by task id: the same id is always in or out", () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => `task-${i}`);
    const first = ids.filter((id) => sampled(id, 0.1));
    expect(ids.filter((id) => sampled(id, 0.1))).toEqual(first);
    expect(ids.filter((id) => sampled(id, 0)).length).toBe(0);
    expect(ids.filter((id) => sampled(id, 1)).length).toBe(10_000);
    // a 10% sample of 10,000: within 4 standard deviations (σ = 30) of 1,000
    expect(Math.abs(first.length - 1000)).toBeLessThan(120);
    // a smaller rate samples a subset of a larger one
    expect(ids.filter((id) => sampled(id, 0.05)).every((id) => sampled(id, 0.1))).toBe(true);
  });

  it("evaluates after the task, off its path; the judge's cost is evaluation cost, beside the agent's", async () => {
    const store = join(tmp(), "runs.jsonl");
    const slow = gate();
    const seen: Array<{ output: string; version: string | undefined }> = [];
    const judge: OnlineEvaluator = {
      name: "helpfulness",
      async evaluate(task, { charge }) {
        await slow.opened;
        seen.push({ output: lastText(task.output), version: task.summary.version });
        charge("test-model", { input: 1000, output: 500 }); // 1000·1 + 500·2 = 2000 µ$
        return { pass: true, score: 0.75, reason: "answers the question" };
      },
    };
    const warden = new Warden({
      tracing: false,
      store,
      prices: { "test-model": { input: 1, output: 2 } },
      online: { evaluators: [judge], sampleRate: 1 },
    });
    const agent = answering(warden, [{ content: "the answer", usage: { input: 100, output: 10 } }], {
      version: "v7",
    });
    // The judge is blocked: the task still returns, and its line is in the store, the eval not yet.
    await agent.invoke(user("q"));
    const online = warden.online;
    expect(online?.stats()).toMatchObject({ sampled: 1, queued: 1, evaluated: 0 });
    expect(readStore(store).records).toEqual([]);
    slow.open();
    await warden.flush();
    expect(seen).toEqual([{ output: "the answer", version: "v7" }]);
    const read = readStore(store);
    expect(read.summaries).toHaveLength(1);
    const [record] = read.records as [EvalRecord];
    expect(record).toMatchObject({
      v: 1,
      type: "eval",
      run: read.summaries[0]?.id,
      agent: "assistant",
      version: "v7",
      name: "helpfulness",
      pass: true,
      score: 0.75,
      reason: "answers the question",
      costUsd: 0.002,
    });
    // The agent's cost is its own: 100·1 + 10·2 = 120 µ$; the judge's 2000 µ$ is apart.
    const snap = warden.metrics?.snapshot();
    expect(snap?.cumulative.totals.costUsd).toBeCloseTo(0.00012, 12);
    expect(snap?.evalCostUsd).toBeCloseTo(0.002, 12);
    expect(snap?.evals.helpfulness).toMatchObject({ count: 1, passed: 1, scored: 1, meanScore: 0.75 });
    expect(snap?.byVersion.v7?.evals.helpfulness?.meanScore).toBe(0.75);
    // and the report of the store says the same
    const report = await reportStore(store);
    expect(report.snapshot.evalCostUsd).toBeCloseTo(0.002, 12);
    expect(report.snapshot.byVersion.v7?.evals.helpfulness?.count).toBe(1);
    await warden.shutdown();
  });

  it("bounds its queue and counts what it drops; a slow judge never delays a task", async () => {
    const slow = gate();
    const warden = new Warden({
      tracing: false,
      online: {
        evaluators: [{ name: "slow", evaluate: () => slow.opened.then(() => true) }],
        sampleRate: 1,
        queueSize: 2,
        concurrency: 1,
      },
    });
    const graph = pass_fail(warden);
    await graph.invoke({ fail: false });
    await new Promise((resolve) => setImmediate(resolve)); // the worker takes task 1 and waits on the judge
    for (let i = 0; i < 4; i++) await graph.invoke({ fail: false }); // each returns, judge still blocked
    expect(warden.online?.stats()).toMatchObject({
      sampled: 5,
      queued: 3,
      running: 1,
      pending: 2,
      evaluated: 0,
      dropped: { queue_full: 2, budget: 0, shutdown: 0 },
    });
    slow.open();
    await warden.flush();
    expect(warden.online?.stats()).toMatchObject({ evaluated: 3, running: 0, pending: 0 });
    expect(warden.metrics?.snapshot().evals.slow?.count).toBe(3);
    await warden.shutdown();
  });

  it("stops evaluating once the evaluation budget is spent, and filters by agent and outcome", async () => {
    const charged: OnlineEvaluator = {
      name: "judge",
      evaluate: (_task, { charge }) => {
        charge("judge-model", { input: 10_000, output: 0 }); // $0.01
        return true;
      },
    };
    const warden = new Warden({
      tracing: false,
      prices: { "judge-model": { input: 1, output: 1 } },
      online: { evaluators: [charged], sampleRate: 1, budget: { usd: 0.015 }, outcomes: ["success"] },
    });
    const graph = pass_fail(warden);
    for (let i = 0; i < 3; i++) {
      await graph.invoke({ fail: false });
      await warden.flush();
    }
    await expect(graph.invoke({ fail: true })).rejects.toThrow("work failed"); // a failure: not wanted
    // $0.01 after the first, $0.02 after the second (at or over $0.015): the third is dropped.
    expect(warden.online?.stats()).toMatchObject({
      sampled: 3,
      evaluated: 2,
      dropped: { queue_full: 0, budget: 1, shutdown: 0 },
      costUsd: 0.02,
    });
    const other = new Warden({
      tracing: false,
      online: { evaluators: [charged], sampleRate: 1, agents: ["someone-else"] },
    });
    await pass_fail(other).invoke({ fail: false });
    await other.flush();
    expect(other.online?.stats().sampled).toBe(0);
  });

  it("asks the budget again when a queued task's turn comes: a burst queued before any judge call is charged does not overspend", async () => {
    const charged: OnlineEvaluator = {
      name: "judge",
      evaluate: async (_task, { charge }) => {
        await new Promise((resolve) => setImmediate(resolve)); // the judge's round trip
        charge("judge-model", { input: 3_500, output: 0 }); // $0.0035
        return true;
      },
    };
    const warden = new Warden({
      tracing: false,
      prices: { "judge-model": { input: 1, output: 1 } },
      online: { evaluators: [charged], sampleRate: 1, budget: { usd: 0.001 }, concurrency: 1 },
    });
    const graph = pass_fail(warden);
    // Ten tasks end before the worker takes the first: all ten are queued within the budget.
    await Promise.all(Array.from({ length: 10 }, () => graph.invoke({ fail: false })));
    await warden.flush();
    // The first evaluation spends $0.0035 (over the $0.001): the nine others are dropped at their turn.
    expect(warden.online?.stats()).toMatchObject({
      sampled: 10,
      queued: 10,
      evaluated: 1,
      dropped: { queue_full: 0, budget: 9, shutdown: 0 },
    });
    expect(warden.online?.stats().costUsd).toBeCloseTo(0.0035, 12);
    await warden.shutdown();
  });

  it("records a judge that throws or times out as a failed evaluation, never the task's failure", async () => {
    const warden = new Warden({
      tracing: false,
      online: {
        evaluators: [
          { name: "broken", evaluate: () => Promise.reject(new Error("judge down")) },
          {
            name: "stuck",
            evaluate: (_t, { signal }) =>
              new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason))),
          },
        ],
        sampleRate: 1,
        timeoutMs: 20,
      },
    });
    const results: EvalRecord[] = [];
    warden.online?.onResult((r) => results.push(r));
    await pass_fail(warden).invoke({ fail: false });
    await warden.flush();
    expect(warden.metrics?.snapshot().cumulative.totals.success).toBe(1);
    expect(results.map((r) => [r.name, r.pass, r.reason])).toEqual([
      ["broken", false, "evaluator error: judge down"],
      ["stuck", false, "evaluator error: online evaluator stuck timed out after 20 ms"],
    ]);
    expect(warden.online?.stats().errors).toBe(2);
  });

  it("runs a judge's own model call outside the task: it joins no task's ledger or trace", async () => {
    const { provider, spans } = memoryTracing();
    const judgeModel = new ScriptedChatModel({
      script: [{ content: "0.9", usage: { input: 50, output: 1 } }],
      model: "judge-model",
    });
    const warden = new Warden({
      tracerProvider: provider,
      online: {
        sampleRate: 1,
        evaluators: [
          {
            name: "judged",
            async evaluate(_task, { charge }) {
              const reply = await judgeModel.invoke("rate it");
              charge("judge-model", { input: 50, output: 1 });
              return { pass: true, score: Number(reply.content) };
            },
          },
        ],
      },
    });
    const ledgers: Array<() => string[]> = [];
    warden.onTaskEnd((run) => {
      const names = (step: typeof run.root): string[] => [`${step.kind}:${step.name}`, ...step.children.flatMap(names)];
      ledgers.push(() => names(run.root));
    });
    await answering(warden, [{ content: "hi", usage: { input: 1, output: 1 } }]).invoke(user("q"));
    const before = spans().length;
    const tree = ledgers[0]?.() ?? [];
    await warden.flush();
    expect(warden.metrics?.snapshot().evals.judged?.meanScore).toBe(0.9);
    expect(ledgers[0]?.()).toEqual(tree); // nothing added to the ended task's steps
    expect(tree.filter((n) => n.startsWith("chat:"))).toHaveLength(1);
    expect(spans().length).toBe(before); // and no span under its trace
    expect(warden.stats().openTasks).toBe(0);
  });

  it("validates its options once, naming the field", () => {
    expect(() => new Warden({ online: { evaluators: [] } })).toThrow(
      new RangeError(
        "agentwarden: option online.evaluators is invalid: Too small: expected array to have >=1 items (got an array)",
      ),
    );
    expect(() => new Warden({ online: { evaluators: [{ name: "x", evaluate: () => true }], sampleRate: 2 } })).toThrow(
      /option online\.sampleRate is invalid/,
    );
    expect(() => new Warden({ online: { evaluators: [{ name: "x" } as never] } })).toThrow(
      /option online\.evaluators\.0 is invalid: expected an evaluator/,
    );
  });

  it("keeps nothing of a task that is not sampled", async () => {
    const warden = new Warden({
      tracing: false,
      online: { evaluators: [{ name: "x", evaluate: () => true }], sampleRate: 0 },
    });
    const runs: Array<{ keep: boolean; output: unknown }> = [];
    warden.onTaskEnd((run) => runs.push({ keep: run.keepOutput, output: run.output }));
    await pass_fail(warden).invoke({ fail: false });
    expect(runs).toEqual([{ keep: false, output: undefined }]);
  });
});

describe("user feedback", () => {
  it("attaches thumbs, a score, a correction and a comment by run id or thread id, counted under the run's version", async () => {
    const store = join(tmp(), "runs.jsonl");
    const warden = new Warden({ tracing: false, store });
    const ids: string[] = [];
    warden.onTaskEnd((run) => ids.push(run.id));
    const agent = answering(
      warden,
      [
        { content: "first", usage: { input: 1, output: 1 } },
        { content: "second", usage: { input: 1, output: 1 } },
      ],
      { version: "v1" },
    );
    await agent.invoke(user("a"), { configurable: { thread_id: "t-1" } });
    await agent.invoke(user("b"), { configurable: { thread_id: "t-2", agentwarden: { version: "v2" } } });
    const byRun = warden.feedback({
      runId: ids[0] as string,
      thumbs: "down",
      correction: "say second",
      comment: "wrong, key sk-abcdefghijklmnopqrstuvwxyz123456",
    });
    const byThread = warden.feedback({ threadId: "t-2", score: 0.9 });
    expect(byRun).toMatchObject({
      type: "feedback",
      run: ids[0],
      thread: "t-1",
      version: "v1",
      pass: false,
      thumbs: "down",
      correction: "say second",
    });
    expect(byRun.comment).not.toContain("sk-abcdefghijklmnopqrstuvwxyz123456");
    expect(byThread).toMatchObject({
      type: "feedback",
      run: ids[1],
      thread: "t-2",
      version: "v2",
      pass: true,
      score: 0.9,
      name: "user_feedback",
    });
    const v = warden.metrics?.snapshot().byVersion;
    expect(v?.v1?.evals.user_feedback).toMatchObject({ count: 1, failed: 1, scored: 1, meanScore: 0 });
    expect(v?.v2?.evals.user_feedback).toMatchObject({ count: 1, passed: 1, meanScore: 0.9 });
    expect(() => warden.feedback({ runId: ids[0] as string })).toThrow(
      /needs thumbs, a score, a correction or a comment/,
    );
    expect(() => warden.feedback({ thumbs: "up" })).toThrow(/needs a runId or a threadId/);
    // A rating on another scale would pass at 0.5 and skew the mean score: refused, saying the scale.
    expect(() => warden.feedback({ runId: ids[0] as string, score: 7 })).toThrow(
      new RangeError("agentwarden: feedback score must be from 0 to 1 (scale a rating to it), got 7"),
    );

    // From another process, through the store: joined to the run's version by run id when read.
    const script = `import { recordFeedback } from "./src/index.ts"; recordFeedback(${JSON.stringify(store)}, { runId: ${JSON.stringify(ids[1])}, thumbs: "up" });`;
    const child = spawnSync("npx", ["tsx", "--eval", script], { encoding: "utf8", timeout: 60_000 });
    expect(child.stderr).toBe("");
    expect(child.status).toBe(0);
    recordFeedback(store, { threadId: "t-1", thumbs: "up", name: "thumbs" });
    await warden.shutdown();
    const read = readStore(store);
    expect(read.errors).toEqual([]);
    expect(read.records.map((r) => [r.type, r.version, r.run === undefined])).toEqual([
      ["feedback", "v1", false],
      ["feedback", "v2", false],
      ["feedback", undefined, false],
      ["feedback", undefined, true],
    ]);
    const report = (await reportStore(store)).snapshot.byVersion;
    expect(report.v2?.evals.user_feedback).toMatchObject({ count: 2, passed: 2, scored: 2 });
    expect(report.v2?.evals.user_feedback?.meanScore).toBeCloseTo(0.95, 12);
    expect(report.v1?.evals.thumbs).toMatchObject({ count: 1, passed: 1, meanScore: 1 });
  });

  it("readers skip a record type they do not know, and report a malformed record", async () => {
    const store = join(tmp(), "runs.jsonl");
    const warden = new Warden({ tracing: false, store });
    await pass_fail(warden).invoke({ fail: false });
    await warden.shutdown();
    appendFileSync(store, `${JSON.stringify({ v: 1, type: "annotation", run: "x", note: "from a later version" })}\n`);
    appendFileSync(store, `${JSON.stringify({ v: 1, type: "eval", run: "x", time: 1 })}\n`);
    const first = JSON.parse(readFileSync(store, "utf8").split("\n")[0] as string) as TaskSummary;
    appendFileSync(store, `${JSON.stringify({ ...first, version: 3 })}\n`);
    const read = readStore(store);
    expect(read.summaries).toHaveLength(1);
    expect(read.records).toEqual([]);
    expect(read.errors).toEqual([
      { line: 3, message: "record field name missing or not a string" },
      { line: 4, message: "field version not a string" },
    ]);
    expect(readFileSync(store, "utf8").split("\n")).toHaveLength(5);
  });
});
