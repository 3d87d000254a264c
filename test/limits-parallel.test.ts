import type { BaseMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";
import { tool } from "@langchain/core/tools";
import { Annotation, END, Send, START, StateGraph } from "@langchain/langgraph";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { afterEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { wrapGraph } from "../adapters/langgraph/index.js";
import { ScriptedChatModel, type ScriptedChatModelOptions } from "../adapters/testing/index.js";
import { type BreakerTripError, isBreakerTrip, type TaskSummary, Warden } from "../src/index.js";
import { user } from "./support/agents.js";

// Limits under concurrency: model calls made in parallel branches (Send fan-out), identical tool
// calls made in parallel, a model missing from the price table, and a time limit with a call that
// never answers under `finalize`.

/** $0.01 per output token, input free: a reply of 100 output tokens costs exactly $1. */
const PRICES = { m: { input: 0, output: 10_000 } };
/** One $1 reply (0 in, 100 out). */
const DOLLAR = { content: "a", usage: { input: 0, output: 100 } };

/** A promise and the function that settles it. */
function latch<T = void>() {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** A scripted model whose replies wait for `gate` to open (every call is counted when it starts). */
class GatedModel extends ScriptedChatModel {
  readonly gate = latch();
  readonly started = latch();
  readonly returned = latch();

  constructor(options: ScriptedChatModelOptions) {
    super(options);
  }

  override async _generate(messages: BaseMessage[]): Promise<ChatResult> {
    const result = super._generate(messages); // counts the call
    this.started.open();
    await this.gate.promise;
    const out = await result;
    this.returned.open();
    return out;
  }
}

const FanOut = Annotation.Root({
  n: Annotation<number>(),
  answers: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
});

/** `n` parallel branches (Send), each making one model call. */
function fanOut(llm: ScriptedChatModel, warden: Warden) {
  const graph = new StateGraph(FanOut)
    .addNode("worker", async () => {
      const reply = await llm.invoke([{ role: "user", content: "x" }]);
      return { answers: [String(reply.content)] };
    })
    .addConditionalEdges(START, (s) => Array.from({ length: s.n }, () => new Send("worker", {})))
    .addEdge("worker", END)
    .compile({ name: "fanout" });
  return wrapGraph(graph, { warden });
}

async function tripOf(promise: Promise<unknown>): Promise<BreakerTripError> {
  try {
    await promise;
  } catch (error) {
    if (isBreakerTrip(error)) return error;
    throw error;
  }
  throw new Error("expected the invoke to reject with a BreakerTripError");
}

/** Lets every pending promise reaction run (no timer involved). */
const settled = () => new Promise<void>((resolve) => setImmediate(resolve));

afterEach(() => {
  vi.useRealTimers();
});

describe("maxCostUsd and maxTokens with model calls in parallel", () => {
  it("abort: 20 parallel branches under a budget of one call make one call; the trip reports what it spent", async () => {
    const llm = new GatedModel({ model: "m", script: [DOLLAR] });
    const warden = new Warden({
      tracing: false,
      metrics: false,
      prices: PRICES,
      defaultMaxOutputTokens: 100,
      limits: { maxCostUsd: 1.5 },
      onTrip: () => {
        // The admitted call answers only after the trip: its cost comes in after the trip was made.
        llm.gate.open();
        return "abort";
      },
    });
    const trip = await tripOf(fanOut(llm, warden).invoke({ n: 20 }));
    await llm.returned.promise;
    await settled();
    // Call 1 reserves its worst case, $1 (100 output tokens); call 2 would make $0 + $1 in flight +
    // $1 = $2 > $1.5: refused, and with it the other 18.
    expect(llm.calls).toBe(1);
    expect(trip.data).toMatchObject({ kind: "cost", limit: 1.5, observed: 2, overshoot: 0 });
    expect(trip.data.reason).toContain("in flight");
    // The call in flight at the trip cost $1: the trip's data says so once it has answered.
    expect(trip.data).toMatchObject({ spentUsd: 1, inFlightUsd: 0 });
  });

  it("finalize: the same fan-out makes one call and the other 19 branches get the stop message", async () => {
    const llm = new ScriptedChatModel({ model: "m", script: [DOLLAR] });
    const warden = new Warden({
      tracing: false,
      prices: PRICES,
      defaultMaxOutputTokens: 100,
      limits: { maxCostUsd: 1.5 },
      onTrip: "finalize",
    });
    const summaries: TaskSummary[] = [];
    warden.onTaskEnd((run) => summaries.push(run.summary()));
    const out = await fanOut(llm, warden).invoke({ n: 20 });
    expect(llm.calls).toBe(1);
    expect(out.answers.filter((a: string) => a === "a")).toHaveLength(1);
    expect(out.answers.filter((a: string) => a.startsWith("agentwarden stopped this task"))).toHaveLength(19);
    expect(summaries[0]).toMatchObject({ costUsd: 1, outcome: "failure", trips: { cost: 1 } });
  });

  it("streamed model calls hold their worst case too", async () => {
    const llm = new ScriptedChatModel({ model: "m", script: [DOLLAR] });
    const warden = new Warden({
      tracing: false,
      prices: PRICES,
      defaultMaxOutputTokens: 100,
      limits: { maxCostUsd: 1.5 },
      onTrip: "finalize",
    });
    const summaries: TaskSummary[] = [];
    warden.onTaskEnd((run) => summaries.push(run.summary()));
    const graph = new StateGraph(FanOut)
      .addNode("worker", async () => {
        let text = "";
        for await (const chunk of await llm.stream([{ role: "user", content: "x" }])) text += String(chunk.content);
        return { answers: [text] };
      })
      .addConditionalEdges(START, (s) => Array.from({ length: s.n }, () => new Send("worker", {})))
      .addEdge("worker", END)
      .compile();
    const out = await wrapGraph(graph, { warden }).invoke({ n: 5 });
    expect(llm.calls).toBe(1);
    expect(out.answers.filter((a: string) => a === "a")).toHaveLength(1);
    expect(summaries[0]).toMatchObject({ costUsd: 1, trips: { cost: 1 } });
  });

  it("maxTokens: the worst cases of calls in flight count too", async () => {
    const llm = new ScriptedChatModel({ model: "m", script: [DOLLAR] });
    const warden = new Warden({
      tracing: false,
      prices: PRICES,
      defaultMaxOutputTokens: 100,
      limits: { maxTokens: 150 },
      onTrip: "finalize",
    });
    const summaries: TaskSummary[] = [];
    warden.onTaskEnd((run) => summaries.push(run.summary()));
    const out = await fanOut(llm, warden).invoke({ n: 20 });
    // A call's worst case: "x" is 1 character, ceil(1/4) = 1 input token, + 100 output = 101.
    // Call 1 reserves 101; call 2 would make 0 + 101 + 101 = 202 > 150.
    expect(llm.calls).toBe(1);
    expect(out.answers.filter((a: string) => a === "a")).toHaveLength(1);
    expect(summaries[0]?.tokens).toMatchObject({ input: 0, output: 100 });
    expect(summaries[0]?.trips).toEqual({ tokens: 1 });
  });

  it("a call that fails releases its reservation: the next one is admitted", async () => {
    // Two branches one after the other (a chain): the first model call fails, the second runs.
    let attempt = 0;
    const llm = new ScriptedChatModel({
      model: "m",
      script: () => (attempt++ === 0 ? { error: new Error("overloaded") } : DOLLAR),
    });
    const warden = new Warden({
      tracing: false,
      prices: PRICES,
      defaultMaxOutputTokens: 100,
      limits: { maxCostUsd: 1.5 },
    });
    const graph = new StateGraph(FanOut)
      .addNode("first", async () => {
        try {
          await llm.invoke([{ role: "user", content: "x" }]);
        } catch {
          return { answers: ["failed"] };
        }
        return { answers: ["ok"] };
      })
      .addNode("second", async () => ({
        answers: [String((await llm.invoke([{ role: "user", content: "x" }])).content)],
      }))
      .addEdge(START, "first")
      .addEdge("first", "second")
      .compile();
    const out = await wrapGraph(graph, { warden }).invoke({ n: 0 });
    expect(out.answers).toEqual(["failed", "a"]);
    expect(llm.calls).toBe(2);
  });
});

describe("loops.stop with identical calls in parallel", () => {
  /** `fetch_page`, whose runs wait until `parallel` of them have started, then answer `result(i)`. */
  function fetchPage(parallel: number, result: (i: number) => string) {
    let started = 0;
    const all = latch();
    const t = tool(
      async () => {
        const i = ++started;
        if (started >= parallel) all.open();
        await all.promise;
        return result(i);
      },
      { name: "fetch_page", description: "Fetches a page.", schema: z.object({ url: z.string() }) },
    );
    return { tool: t, started: () => started };
  }
  const six = Array.from({ length: 6 }, (_, i) => ({ name: "fetch_page", args: { url: "https://x" }, id: `c${i}` }));

  it("six identical calls made at once all run: none had returned when the others started", async () => {
    const page = fetchPage(6, (i) => `page ${i}`);
    const llm = new ScriptedChatModel({ script: [{ toolCalls: six }, { content: "done" }] });
    const warden = new Warden({ tracing: false, loops: { stop: true } });
    const summaries: TaskSummary[] = [];
    warden.onTaskEnd((run) => summaries.push(run.summary()));
    const out = await wrapGraph(createReactAgent({ llm, tools: [page.tool] }), { warden }).invoke(user("go"));
    expect(page.started()).toBe(6);
    expect(out.messages.at(-1)?.content).toBe("done");
    expect(summaries[0]).toMatchObject({ outcome: "success", trips: {} });
    expect(summaries[0]?.suspectedLoops).toBeUndefined();
  });

  it("once they have returned the same result, the next identical call is a loop: a hint, then a trip", async () => {
    const page = fetchPage(6, () => "the same page");
    const one = (id: string) => ({ toolCalls: [{ name: "fetch_page", args: { url: "https://x" }, id }] });
    const llm = new ScriptedChatModel({ script: [{ toolCalls: six }, one("c7"), one("c8"), { content: "done" }] });
    const warden = new Warden({ tracing: false, loops: { stop: true } });
    const trip = await tripOf(wrapGraph(createReactAgent({ llm, tools: [page.tool] }), { warden }).invoke(user("go")));
    // The 7th call follows 6 returned with the same result: 7 ≥ 5, answered with the hint (not run);
    // the 8th: 6 returned + the hinted one + itself = 8, a trip.
    expect(page.started()).toBe(6);
    expect(llm.calls).toBe(3);
    expect(trip.data).toMatchObject({ kind: "loop", limit: 5, observed: 8, subject: "fetch_page" });
  });
});

describe("a model missing from the price table", () => {
  it("is reported once per model through onError when a cost limit cannot count its calls", async () => {
    const reported: Array<{ source: string; error: unknown }> = [];
    const warden = new Warden({
      tracing: false,
      limits: { maxCostUsd: 0.01 },
      onError: (error, source) => reported.push({ source, error }),
    });
    const search = tool(async ({ q }: { q: string }) => `r ${q}`, {
      name: "search",
      description: "d",
      schema: z.object({ q: z.string() }),
    });
    const agent = (model: string) =>
      wrapGraph(
        createReactAgent({
          llm: new ScriptedChatModel({
            model,
            script: (_m, i) =>
              i < 3
                ? { toolCalls: [{ name: "search", args: { q: `q${i}` } }], usage: { input: 10, output: 5 } }
                : { content: "done" },
          }),
          tools: [search],
        }),
        { warden },
      );
    // Two tasks of 4 calls each on an unpriced model, one on a priced one.
    await agent("my-finetune").invoke(user("go"));
    await agent("my-finetune").invoke(user("go"));
    await agent("gpt-4o-mini").invoke(user("go"));
    expect(reported.map((r) => r.source)).toEqual(["prices"]);
    const error = reported[0]?.error as { code?: string; message?: string; data?: unknown };
    expect(error.code).toBe("UNPRICED_MODEL");
    expect(error.data).toEqual({ model: "my-finetune" });
    expect(error.message).toMatch(/"my-finetune" has no price.*maxCostUsd.*prices/);
    expect(warden.stats().telemetryErrors).toEqual({ prices: 1 });
  });
});

describe("maxDurationMs with a call that never answers", () => {
  it("finalize: a tool call still waiting is answered with the reason and the task ends normally, recorded", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const started = latch();
    const hang = tool(
      () => {
        started.open();
        return new Promise<string>(() => {});
      },
      { name: "hang", description: "Never answers.", schema: z.object({ q: z.string() }) },
    );
    const llm = new ScriptedChatModel({
      script: [{ toolCalls: [{ name: "hang", args: { q: "x" }, id: "c1" }] }, { content: "never" }],
    });
    const warden = new Warden({ tracing: false, limits: { maxDurationMs: 5 }, onTrip: "finalize" });
    const summaries: TaskSummary[] = [];
    warden.onTaskEnd((run) => summaries.push(run.summary()));
    const pending = wrapGraph(createReactAgent({ llm, tools: [hang] }), { warden }).invoke(user("go"));
    await started.promise;
    await vi.advanceTimersByTimeAsync(5);
    const out = await pending;
    const stop =
      "agentwarden stopped this task: the task ran for its 5 ms limit. No further model or tool calls will run; this is the final answer.";
    expect(out.messages.map((m: BaseMessage) => [m.getType(), m.content])).toEqual([
      ["human", "go"],
      ["ai", ""],
      ["tool", stop],
      ["ai", stop],
    ]);
    expect(llm.calls).toBe(1);
    expect(warden.stats().openTasks).toBe(0);
    expect(summaries[0]).toMatchObject({ outcome: "failure", trips: { time: 1 } });
  });

  it("finalize: a model call that never answers cannot be answered for, so the time trip aborts", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const llm = new GatedModel({ script: [{ content: "never" }] });
    const warden = new Warden({ tracing: false, limits: { maxDurationMs: 5 }, onTrip: "finalize" });
    const summaries: TaskSummary[] = [];
    warden.onTaskEnd((run) => summaries.push(run.summary()));
    const pending = tripOf(wrapGraph(createReactAgent({ llm, tools: [] }), { warden }).invoke(user("go")));
    await llm.started.promise;
    await vi.advanceTimersByTimeAsync(5);
    const trip = await pending;
    expect(trip.data).toMatchObject({ kind: "time", limit: 5 });
    expect(warden.stats().openTasks).toBe(0);
    expect(summaries[0]).toMatchObject({ outcome: "failure", trips: { time: 1 } });
  });
});
