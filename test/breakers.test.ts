import { tool } from "@langchain/core/tools";
import { Annotation, MemorySaver, START, StateGraph } from "@langchain/langgraph";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { createAgent } from "langchain";
import { afterEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { wrapGraph } from "../adapters/langgraph/index.js";
import { type Script, ScriptedChatModel } from "../adapters/testing/index.js";
import {
  type BreakerTripError,
  isBreakerTrip,
  MemoryStateStore,
  StateBudgetStore,
  type StateStore,
  type TaskSummary,
  type ToolBreakerState,
  Warden,
} from "../src/index.js";
import { TEST_PRICES, user } from "./support/agents.js";
import { memoryTracing, one } from "./support/otel.js";

/** A tool that counts its executions. */
function counted(name: string, body: (args: { q: string }) => Promise<string> | string = ({ q }) => `${name}:${q}`) {
  const state = { executions: 0 };
  const t = tool(
    async (args: { q: string }) => {
      state.executions++;
      return body(args);
    },
    { name, description: `The ${name} tool.`, schema: z.object({ q: z.string() }) },
  );
  return Object.defineProperty(t, "executions", { get: () => state.executions }) as typeof t & {
    readonly executions: number;
  };
}

type CountedTool = ReturnType<typeof counted>;

function reactAgent(warden: Warden, script: Script, tools: CountedTool[], checkpointer?: MemorySaver) {
  const llm = new ScriptedChatModel({ script, model: "test-model" });
  const agent = wrapGraph(createReactAgent({ llm, tools, name: "looper", ...(checkpointer ? { checkpointer } : {}) }), {
    warden,
  });
  return { agent, llm };
}

/** A model that calls `search` with the same query forever. */
const forever: Script = () => ({
  toolCalls: [{ name: "search", args: { q: "vector db pricing" } }],
  usage: { input: 100, output: 10 },
});

async function tripOf(promise: Promise<unknown>): Promise<BreakerTripError> {
  try {
    await promise;
  } catch (error) {
    if (isBreakerTrip(error)) return error;
    throw error;
  }
  throw new Error("expected the invoke to reject with a BreakerTripError");
}

afterEach(() => {
  vi.useRealTimers();
});

describe("loop detection", () => {
  it("abort: stops an agent repeating the same search at the configured count, after one hint", async () => {
    const { provider, spans } = memoryTracing();
    const warden = new Warden({ tracerProvider: provider, prices: TEST_PRICES, loops: { repeats: 3, stop: true } });
    const summaries: TaskSummary[] = [];
    warden.onTaskEnd((run) => summaries.push(run.summary()));
    const search = counted("search");
    const { agent, llm } = reactAgent(warden, forever, [search]);

    const trip = await tripOf(agent.invoke(user("find pricing")));
    // Calls 1 and 2 run; the 3rd identical call gets a hint instead; the 4th trips.
    expect(llm.calls).toBe(4);
    expect(search.executions).toBe(2);
    expect(trip.name).toBe("BreakerTripError");
    expect(trip.code).toBe("BREAKER_TRIP");
    expect(trip.data).toMatchObject({ kind: "loop", limit: 3, observed: 4, overshoot: 0, subject: "search" });
    // Nothing is lost: the state up to the trip comes with the error, the hint included.
    const messages = (trip.data.partialState as { messages: Array<{ content: unknown }> }).messages;
    expect(messages.map((m) => String(m.content)).some((c) => c.includes("same arguments 3 times"))).toBe(true);
    expect(summaries).toHaveLength(1);
    expect(summaries[0]?.outcome).toBe("failure");
    expect(summaries[0]?.trips).toEqual({ loop: 1 });
    expect(summaries[0]?.error?.type).toBe("BREAKER_TRIP");
    expect(warden.metrics?.snapshot().cumulative.totals.trips).toEqual({ loop: 1 });
    const root = one(spans(), "invoke_agent looper");
    expect(root.events.map((e) => e.name)).toContain("agentwarden.breaker.trip");
    expect(root.events.find((e) => e.name === "agentwarden.breaker.trip")?.attributes).toMatchObject({
      kind: "loop",
      limit: 3,
      observed: 4,
    });
    expect(warden.stats().openTasks).toBe(0);
  });

  it("abort without a hint trips on the configured count itself", async () => {
    const warden = new Warden({ tracing: false, loops: { repeats: 3, stop: true, hint: false } });
    const search = counted("search");
    const { agent, llm } = reactAgent(warden, forever, [search]);
    const trip = await tripOf(agent.invoke(user("find pricing")));
    expect([llm.calls, search.executions]).toEqual([3, 2]);
    expect(trip.data).toMatchObject({ kind: "loop", observed: 3 });
  });

  it("finalize: the agent ends with a final answer saying why it had to stop", async () => {
    const warden = new Warden({
      tracing: false,
      prices: TEST_PRICES,
      loops: { repeats: 3, stop: true },
      onTrip: "finalize",
    });
    const summaries: TaskSummary[] = [];
    warden.onTaskEnd((run) => summaries.push(run.summary()));
    const search = counted("search");
    const { agent, llm } = reactAgent(warden, forever, [search]);
    const out = await agent.invoke(user("find pricing"));
    // 4 real model calls; the 4th tool call is refused with the reason, and the model is not called again.
    expect(llm.calls).toBe(4);
    expect(search.executions).toBe(2);
    const last = out.messages.at(-1);
    expect(last?.getType()).toBe("ai");
    expect(String(last?.content)).toBe(
      "agentwarden stopped this task: search called 4 times with the same arguments. No further model or tool calls will run; this is the final answer.",
    );
    expect(summaries[0]).toMatchObject({ outcome: "failure", trips: { loop: 1 }, error: { type: "breaker_trip" } });
  });

  it("near-duplicate arguments count as the same call when asked", async () => {
    const warden = new Warden({ tracing: false, loops: { repeats: 3, stop: true, hint: false, nearDuplicates: true } });
    const variants = ["Vector DB pricing", "vector db pricing!", "pricing, vector  DB"];
    const script: Script = (_m, i) => ({ toolCalls: [{ name: "search", args: { q: variants[i % 3] as string } }] });
    const search = counted("search");
    const { agent, llm } = reactAgent(warden, script, [search]);
    const trip = await tripOf(agent.invoke(user("x")));
    expect([llm.calls, search.executions, trip.data.kind]).toEqual([3, 2, "loop"]);
  });

  it("does not trip a progressing agent: 20 different searches and a status tool polled with changing arguments", async () => {
    const warden = new Warden({ tracing: false, loops: { repeats: 3, stop: true } });
    const search = counted("search");
    const status = counted("status", ({ q }) => (q.endsWith("#20") ? "done" : "running"));
    const script: Script = (messages) => {
      const turns = messages.filter((m) => m.getType() === "ai").length;
      if (turns < 20) {
        return {
          toolCalls: [
            { name: "search", args: { q: `topic ${turns}` } },
            { name: "status", args: { q: `job-7 poll #${turns + 1}` } },
          ],
        };
      }
      return { content: "all done" };
    };
    const { agent, llm } = reactAgent(warden, script, [search, status]);
    const out = await agent.invoke(user("x"), { recursionLimit: 100 });
    expect(out.messages.at(-1)?.content).toBe("all done");
    expect([llm.calls, search.executions, status.executions]).toEqual([21, 20, 20]);
    expect(warden.metrics?.snapshot().cumulative.totals).toMatchObject({ success: 1, trips: {} });
  });
});

describe("cost, tokens, steps, depth and time", () => {
  it("stops a task before the model call that would cross the cost budget", async () => {
    // Each call: 1000 in at $1/M + 500 out at $2/M = $0.002. The guard assumes up to 500 output tokens.
    const warden = new Warden({
      tracing: false,
      prices: TEST_PRICES,
      limits: { maxCostUsd: 0.005 },
      defaultMaxOutputTokens: 500,
    });
    const search = counted("search");
    const script: Script = (_m, i) => ({
      toolCalls: [{ name: "search", args: { q: `q${i}` } }],
      usage: { input: 1000, output: 500 },
    });
    const { agent, llm } = reactAgent(warden, script, [search]);
    const trip = await tripOf(agent.invoke(user("hi")));
    // After 2 calls $0.004 is spent; a third may cost $0.004 + (its ~3 input tokens + 500·2)/1e6 > $0.005.
    expect(llm.calls).toBe(2);
    expect(search.executions).toBe(2);
    expect(trip.data.kind).toBe("cost");
    expect(trip.data.limit).toBe(0.005);
    expect(trip.data.spentUsd).toBeCloseTo(0.004, 12);
    expect(trip.data.overshoot).toBe(0);
    expect(trip.data.observed).toBeGreaterThan(0.005);
    expect(trip.data.observed).toBeLessThan(0.00502);
  });

  it("a per-invoke limit overrides the Warden's; invalid ones are rejected naming the field", async () => {
    const warden = new Warden({ tracing: false, limits: { maxToolCalls: 100 } });
    const search = counted("search");
    const script: Script = (_m, i) => ({ toolCalls: [{ name: "search", args: { q: `q${i}` } }] });
    const { agent } = reactAgent(warden, script, [search]);
    const trip = await tripOf(
      agent.invoke(user("hi"), { configurable: { agentwarden: { limits: { maxToolCalls: 2 } } } }),
    );
    expect(trip.data).toMatchObject({ kind: "tool_calls", limit: 2, observed: 3 });
    expect(search.executions).toBe(2);
    await expect(
      agent.invoke(user("hi"), { configurable: { agentwarden: { limits: { maxToolCalls: -1 } } } }),
    ).rejects.toThrow(/configurable\.agentwarden\.limits\.maxToolCalls is invalid.*\(got -1\)/);
    expect(() => new Warden({ limits: { maxCostUsd: -5 } })).toThrow(/option limits\.maxCostUsd is invalid/);
  });

  it("limits calls per tool and tokens", async () => {
    const warden = new Warden({ tracing: false, limits: { maxToolCallsPerTool: { search: 1 } } });
    const search = counted("search");
    const { agent } = reactAgent(warden, (_m, i) => ({ toolCalls: [{ name: "search", args: { q: `q${i}` } }] }), [
      search,
    ]);
    const trip = await tripOf(agent.invoke(user("hi")));
    expect(trip.data).toMatchObject({ kind: "tool_calls_per_tool", subject: "search", limit: 1, observed: 2 });

    const tokens = new Warden({ tracing: false, limits: { maxTokens: 1000 }, defaultMaxOutputTokens: 100 });
    const { agent: a2, llm } = reactAgent(
      tokens,
      (_m, i) => ({ toolCalls: [{ name: "search", args: { q: `q${i}` } }], usage: { input: 300, output: 100 } }),
      [counted("search")],
    );
    const t2 = await tripOf(a2.invoke(user("hi")));
    // 400 tokens a call: after 2 calls 800 used, a third may need ~3 + 100 more (≤ 1000) and runs; after it 1200 > 1000.
    expect(llm.calls).toBe(3);
    expect(t2.data).toMatchObject({ kind: "tokens", limit: 1000, observed: 1200, overshoot: 200 });
  });

  it("stops nested subgraphs beyond the depth limit", async () => {
    const S = Annotation.Root({ log: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }) });
    let innermostRuns = 0;
    const innermost = new StateGraph(S)
      .addNode("leaf", async () => {
        innermostRuns++;
        return { log: ["leaf"] };
      })
      .addEdge(START, "leaf")
      .compile({ name: "innermost" });
    const middle = new StateGraph(S).addNode("deeper", innermost).addEdge(START, "deeper").compile({ name: "middle" });
    const top = new StateGraph(S).addNode("nested", middle).addEdge(START, "nested").compile({ name: "top" });
    const shallow = wrapGraph(top, { warden: new Warden({ tracing: false, limits: { maxDepth: 2 } }) });
    expect((await shallow.invoke({ log: [] })).log).toEqual(["leaf"]);
    const warden = new Warden({ tracing: false, limits: { maxDepth: 1 } });
    const trip = await tripOf(wrapGraph(top, { warden }).invoke({ log: [] }));
    expect(trip.data).toMatchObject({ kind: "depth", limit: 1, observed: 2, subject: "innermost" });
    expect(innermostRuns).toBe(1); // only the run under maxDepth 2
  });

  it("stops a task at its wall-time limit (fake timers)", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const warden = new Warden({ tracing: false, limits: { maxDurationMs: 30_000 } });
    const slow = counted("slow", () => new Promise<string>((resolve) => setTimeout(() => resolve("late"), 60_000)));
    const { agent } = reactAgent(warden, (_m, i) => ({ toolCalls: [{ name: "slow", args: { q: `q${i}` } }] }), [slow]);
    const pending = tripOf(agent.invoke(user("hi")));
    await vi.advanceTimersByTimeAsync(29_999);
    expect(warden.stats().openTasks).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    const trip = await pending;
    expect(trip.data).toMatchObject({ kind: "time", limit: 30_000 });
    expect(slow.executions).toBe(1);
    expect(warden.stats().openTasks).toBe(0);
  });

  it("limits node executions, and a node with a RetryPolicy does not retry a trip", async () => {
    const S = Annotation.Root({ n: Annotation<number>() });
    const model = new ScriptedChatModel({
      script: [{ content: "x", usage: { input: 10, output: 10 } }],
      model: "test-model",
    });
    let attempts = 0;
    const graph = new StateGraph(S)
      .addNode(
        "work",
        async (s) => {
          attempts++;
          await model.invoke("go");
          return { n: s.n + 1 };
        },
        { retryPolicy: { maxAttempts: 3, initialInterval: 1, jitter: false, logWarning: false, retryOn: () => true } },
      )
      .addEdge(START, "work")
      .compile({ name: "retrying" });
    const warden = new Warden({ tracing: false, prices: TEST_PRICES, limits: { maxCostUsd: 0 } });
    const trip = await tripOf(wrapGraph(graph, { warden }).invoke({ n: 0 }));
    expect(trip.data.kind).toBe("cost");
    expect(attempts).toBe(1); // even with retryOn: () => true, the aborted run is not retried
    expect(model.calls).toBe(0); // refused before the call

    const steps = new Warden({ tracing: false, limits: { maxSteps: 3 } });
    const search = counted("search");
    const { agent } = reactAgent(steps, (_m, i) => ({ toolCalls: [{ name: "search", args: { q: `q${i}` } }] }), [
      search,
    ]);
    const t2 = await tripOf(agent.invoke(user("hi")));
    expect(t2.data).toMatchObject({ kind: "steps", limit: 3, observed: 4, subject: "tools" });
    expect(search.executions).toBe(1); // agent, tools, agent ran; the 4th node (tools) was refused
  });

  it("a checkpointed thread aborted by a trip resumes once the limit is raised", async () => {
    const warden = new Warden({ tracing: false, limits: { maxToolCalls: 2 } });
    const search = counted("search");
    const script: Script = (messages) => {
      const done = messages.filter((m) => m.getType() === "tool").length;
      return done < 3 ? { toolCalls: [{ name: "search", args: { q: `q${done}` } }] } : { content: "three results" };
    };
    const { agent, llm } = reactAgent(warden, script, [search], new MemorySaver());
    const thread = { configurable: { thread_id: "resumable" } };
    const trip = await tripOf(agent.invoke(user("find three"), thread));
    expect(trip.data).toMatchObject({ kind: "tool_calls", limit: 2, observed: 3 });
    expect([llm.calls, search.executions]).toEqual([3, 2]);

    const out = await agent.invoke(null, {
      configurable: { thread_id: "resumable", agentwarden: { limits: { maxToolCalls: 10 } } },
    });
    expect(out.messages.at(-1)?.content).toBe("three results");
    expect([llm.calls, search.executions]).toEqual([4, 3]);
  });
});

describe("budgets shared across tasks", () => {
  it("stops a tenant's task once the tenant's rolling budget would be crossed, other tenants unaffected", async () => {
    const warden = new Warden({
      tracing: false,
      prices: TEST_PRICES,
      defaultMaxOutputTokens: 500,
      sharedBudgets: [{ name: "tenant-hourly", key: "tenant", maxCostUsd: 0.005, windowMs: 3_600_000 }],
    });
    const run = (tenant: string) => {
      const { agent, llm } = reactAgent(warden, [{ content: "ok", usage: { input: 1000, output: 500 } }], []);
      return { llm, result: agent.invoke(user("x"), { configurable: { agentwarden: { tenant } } }) };
    };
    for (let i = 0; i < 2; i++) await run("acme").result; // $0.002 each
    const third = run("acme");
    const trip = await tripOf(third.result);
    expect(trip.data).toMatchObject({ kind: "shared_budget", subject: "tenant-hourly", limit: 0.005 });
    expect(third.llm.calls).toBe(0);
    const other = run("globex");
    await other.result;
    expect(other.llm.calls).toBe(1);
  });
});

describe("budgets shared across processes through one StateStore", () => {
  it("two Wardens on one asynchronous store (a stand-in for Redis) share a tenant's budget", async () => {
    const memory = new MemoryStateStore();
    // Every answer a promise, as a store across processes gives it.
    const shared: StateStore = {
      addToWindow: async (...a) => memory.addToWindow(...a),
      windowSum: async (...a) => memory.windowSum(...a),
      get: async (...a) => memory.get(...a),
      set: async (...a) => memory.set(...a),
      acquire: async (...a) => memory.acquire(...a),
      release: async (...a) => memory.release(...a),
      delete: async (...a) => memory.delete(...a),
      reserve: async (...a) => memory.reserve(...a),
      settle: async (...a) => memory.settle(...a),
      take: async (...a) => memory.take(...a),
    };
    const worker = () =>
      new Warden({
        tracing: false,
        prices: TEST_PRICES,
        defaultMaxOutputTokens: 500,
        sharedBudgets: [{ name: "tenant-hourly", key: "tenant", maxCostUsd: 0.005, windowMs: 3_600_000 }],
        budgetStore: new StateBudgetStore(shared),
      });
    const [a, b] = [worker(), worker()];
    const run = (warden: Warden) => {
      const { agent, llm } = reactAgent(warden, [{ content: "ok", usage: { input: 1000, output: 500 } }], []);
      return { llm, result: agent.invoke(user("x"), { configurable: { agentwarden: { tenant: "acme" } } }) };
    };
    await run(a).result; // $0.002
    await run(b).result; // $0.002: $0.004 spent by the tenant in all
    expect(memory.windowSum("tenant-hourly\u0000acme", 3_600_000, Date.now())).toBeCloseTo(0.004, 10);
    const third = run(a);
    const trip = await tripOf(third.result); // 0.004 + the call's worst case 0.002 > 0.005
    expect(trip.data).toMatchObject({ kind: "shared_budget", subject: "tenant-hourly", limit: 0.005 });
    expect(third.llm.calls).toBe(0);
  });
});

describe("per-tool circuit breaker across tasks", () => {
  async function scenario(
    build: (
      warden: Warden,
      api: CountedTool,
    ) => { invoke(i: ReturnType<typeof user>): Promise<{ messages: Array<{ content: unknown; getType(): string }> }> },
  ) {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2026-11-22T10:00:00Z"));
    const warden = new Warden({
      tracing: false,
      toolBreaker: { consecutiveFailures: 2, halfOpenAfterMs: 10_000 },
      loops: false,
    });
    const states: ToolBreakerState[] = [];
    warden.onToolBreaker((tool, state) => states.push(state));
    let down = true;
    const api = counted("api", () => {
      if (down) throw new Error("503 Service Unavailable");
      return "200 OK";
    });
    const agent = build(warden, api);
    // Task 1: two calls, both fail: the breaker opens.
    await agent.invoke(user("try twice"));
    expect([api.executions, warden.toolBreakers?.state("api")]).toEqual([2, "open"]);
    // Task 2: the call fails fast, without running the tool; the agent reads why.
    const t2 = await agent.invoke(user("once"));
    expect(api.executions).toBe(2);
    const toolMessage = t2.messages.find((m) => m.getType() === "tool");
    expect(String(toolMessage?.content)).toContain("Tool api is temporarily unavailable");
    // After the cool-down one call goes through (half-open); it succeeds and the breaker closes.
    vi.setSystemTime(new Date("2026-11-22T10:00:10.001Z"));
    down = false;
    const t3 = await agent.invoke(user("once"));
    expect(api.executions).toBe(3);
    expect(String(t3.messages.find((m) => m.getType() === "tool")?.content)).toBe("200 OK");
    expect(warden.toolBreakers?.state("api")).toBe("closed");
    expect(states).toEqual(["open", "half-open", "closed"]);
    const tools = warden.metrics?.snapshot().byTool.api;
    expect(tools).toMatchObject({ calls: 4, completed: 1, failures: 3 });
  }

  const scriptFor =
    (calls: number): Script =>
    (messages, i) => {
      const toolTurns = messages.filter((m) => m.getType() === "ai").length;
      return toolTurns < calls
        ? { toolCalls: [{ name: "api", args: { q: "ping" }, id: `c${i}` }] }
        : { content: "done" };
    };

  it("opens after consecutive failures, fails fast, half-opens after the cool-down and closes (createReactAgent)", async () => {
    let calls = 2;
    await scenario((warden, api) => {
      const make = () => {
        const llm = new ScriptedChatModel({ script: scriptFor(calls) });
        return wrapGraph(createReactAgent({ llm, tools: [api] }), { warden });
      };
      return {
        invoke: async (input) => {
          const out = await make().invoke(input);
          calls = 1;
          return out;
        },
      };
    });
  });

  it("the same on a langchain createAgent agent", async () => {
    let calls = 2;
    await scenario((warden, api) => ({
      invoke: async (input) => {
        const llm = new ScriptedChatModel({ script: scriptFor(calls) });
        const out = await wrapGraph(createAgent({ model: llm, tools: [api], name: "lc" }), { warden }).invoke(input);
        calls = 1;
        return out as { messages: Array<{ content: unknown; getType(): string }> };
      },
    }));
  });

  it("a createAgent agent looping on one call is stopped too", async () => {
    const warden = new Warden({ tracing: false, loops: { repeats: 3, stop: true } });
    const search = counted("search");
    const llm = new ScriptedChatModel({ script: forever });
    const agent = wrapGraph(createAgent({ model: llm, tools: [search], name: "lc" }), { warden });
    const trip = await tripOf(agent.invoke(user("x")));
    expect([llm.calls, search.executions, trip.data.kind]).toEqual([4, 2, "loop"]);
  });
});
