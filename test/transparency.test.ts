import { getContextVariable, setContextVariable } from "@langchain/core/context";
import type { AIMessage, BaseMessage } from "@langchain/core/messages";
import { type RunnableConfig, RunnableLambda } from "@langchain/core/runnables";
import { AsyncLocalStorageProviderSingleton } from "@langchain/core/singletons";
import { StructuredTool, tool } from "@langchain/core/tools";
import {
  Annotation,
  END,
  entrypoint,
  MemorySaver,
  MessagesAnnotation,
  START,
  StateGraph,
  type StateSnapshot,
  task,
} from "@langchain/langgraph";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { createAgent } from "langchain";
import { isRunTree } from "langsmith/run_trees";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { wrapGraph } from "../adapters/langgraph/index.js";
import { ScriptedChatModel } from "../adapters/testing/index.js";
import { type BreakerTripError, isBreakerTrip, type TaskSummary, Warden } from "../src/index.js";
import { searchTool, user } from "./support/agents.js";
import { memoryTracing, n, tree } from "./support/otel.js";

/** One search, then an answer. Fresh model per agent, so both agents see the same script. */
function searchingModel() {
  return new ScriptedChatModel({
    script: [
      { toolCalls: [{ name: "search", args: { q: "tides" }, id: "call_1" }], usage: { input: 10, output: 5 } },
      { content: "Tides come from the moon.", usage: { input: 20, output: 6 } },
    ],
  });
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const ISO = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g;

/** A JSON copy with ids and timestamps replaced by placeholders: what must match between two runs. */
function normalized(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value).replace(UUID, "<id>").replace(ISO, "<ts>"));
}

/** Every own key (strings and symbols) anywhere in `value` whose name mentions agentwarden. */
function agentwardenKeys(value: unknown, seen = new Set<object>()): string[] {
  if (typeof value !== "object" || value === null || seen.has(value)) return [];
  seen.add(value);
  const found: string[] = [];
  for (const key of Reflect.ownKeys(value)) {
    const name = typeof key === "symbol" ? String(key.description) : key;
    if (/agentwarden/i.test(name)) found.push(name);
    let child: unknown;
    try {
      child = (value as Record<PropertyKey, unknown>)[key];
    } catch {
      continue;
    }
    found.push(...agentwardenKeys(child, seen));
  }
  return found;
}

describe("a wrapped graph emits and stores exactly what the bare graph does", () => {
  it("debug, checkpoints, values and updates chunks, saved checkpoints and state history", async () => {
    const { provider, spans } = memoryTracing();
    const warden = new Warden({ tracerProvider: provider });
    const run = async (wrap: boolean) => {
      const checkpointer = new MemorySaver();
      const graph = createReactAgent({
        llm: searchingModel(),
        tools: [searchTool()],
        name: "researcher",
        checkpointer,
      });
      const agent = wrap ? wrapGraph(graph, { warden }) : graph;
      const config = { configurable: { thread_id: "t-1" } };
      const chunks: unknown[] = [];
      for await (const chunk of await agent.stream(user("Why are there tides?"), {
        ...config,
        streamMode: ["debug", "checkpoints", "values", "updates"],
      })) {
        chunks.push(chunk);
      }
      const history: unknown[] = [];
      for await (const snapshot of agent.getStateHistory(config)) history.push(snapshot);
      const saved: unknown[] = [];
      for await (const tuple of checkpointer.list(config)) saved.push(tuple);
      return { chunks, history, saved };
    };
    const bare = await run(false);
    const wrapped = await run(true);

    // The wrapped run was traced...
    expect(tree(spans())).toEqual([
      n("invoke_agent researcher", [
        n("agent", [n("chat gpt-4o-mini")]),
        n("tools", [n("execute_tool search")]),
        n("agent", [n("chat gpt-4o-mini")]),
      ]),
    ]);
    // ...and nothing of agentwarden's reached what the graph emitted or stored.
    for (const part of ["chunks", "history", "saved"] as const) {
      expect(agentwardenKeys(wrapped[part]), part).toEqual([]);
      expect(() => JSON.stringify(wrapped[part]), part).not.toThrow();
      expect(normalized(wrapped[part]), part).toEqual(normalized(bare[part]));
    }
    expect(wrapped.chunks.length).toBeGreaterThan(10);
    expect(wrapped.chunks.some((c) => Array.isArray(c) && c[0] === "debug")).toBe(true);
  });
});

describe("copies of a wrapped graph stay wrapped", () => {
  it("withConfig on a wrapped compiled graph, twice, and on a wrapped createAgent agent", async () => {
    const { provider, spans } = memoryTracing();
    const warden = new Warden({ tracerProvider: provider });
    const wrapped = wrapGraph(createReactAgent({ llm: searchingModel(), tools: [searchTool()], name: "researcher" }), {
      warden,
    });
    const copy = wrapped.withConfig({ tags: ["copy"] }).withConfig({ metadata: { tenant: "t" } });
    const out = await copy.invoke(user("Why are there tides?"));
    expect(out.messages.at(-1)?.content).toBe("Tides come from the moon.");
    const expected = n("invoke_agent researcher", [
      n("agent", [n("chat gpt-4o-mini")]),
      n("tools", [n("execute_tool search")]),
      n("agent", [n("chat gpt-4o-mini")]),
    ]);
    expect(tree(spans())).toEqual([expected]);
    // The copy is still recognised as wrapped by this warden.
    expect(wrapGraph(copy, { warden })).toBe(copy);

    const agent = wrapGraph(createAgent({ model: searchingModel(), tools: [searchTool()], name: "lc" }), {
      warden,
    }).withConfig({ tags: ["copy"] });
    await agent.invoke(user("Why are there tides?"));
    expect(tree(spans()).at(-1)).toEqual(
      n("invoke_agent lc", [
        n("model_request", [n("chat gpt-4o-mini")]),
        n("tools", [n("execute_tool search")]),
        n("model_request", [n("chat gpt-4o-mini")]),
      ]),
    );
  });
});

describe("a trip's partialState", () => {
  it("is the last state LangGraph produced: a trip during a tool call keeps the AI message that made the call", async () => {
    const warden = new Warden({ tracing: false, limits: { maxToolCalls: 1 } });
    const turns = [
      { toolCalls: [{ name: "search", args: { q: "tides" }, id: "call_1" }] },
      { toolCalls: [{ name: "search", args: { q: "moon" }, id: "call_2" }] },
      { content: "never reached" },
    ];
    const llm = new ScriptedChatModel({
      script: (messages) => turns[messages.filter((m) => m.getType() === "ai").length] ?? { content: "?" },
    });
    const agent = wrapGraph(createReactAgent({ llm, tools: [searchTool()], name: "researcher" }), { warden });
    for (const streamMode of [undefined, "updates", "values"] as const) {
      const error = await (streamMode === undefined
        ? agent.invoke(user("Why are there tides?"))
        : drain(agent.stream(user("Why are there tides?"), { streamMode }))
      ).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isBreakerTrip(error), String(streamMode)).toBe(true);
      const data = (error as BreakerTripError).data;
      expect(data.kind).toBe("tool_calls");
      const messages = (data.partialState as { messages: BaseMessage[] }).messages;
      expect(
        messages.map((m) => [m.getType(), (m as AIMessage).tool_calls?.map((c) => c.id) ?? String(m.content)]),
        String(streamMode),
      ).toEqual([
        ["human", "Why are there tides?"],
        ["ai", ["call_1"]],
        ["tool", "results for tides"],
        ["ai", ["call_2"]],
      ]);
    }
  });
});

async function drain(stream: Promise<AsyncIterable<unknown>>): Promise<void> {
  for await (const _ of await stream) {
    // consume
  }
}

describe("loop detection changes nothing unless asked", () => {
  /** An agent polling `poll_job({ job: "42" })` `polls` times, then answering; the job reports `results[i]`. */
  function poller(warden: Warden, results: string[]) {
    let executions = 0;
    const pollJob = tool(async ({ job }: { job: string }) => `job ${job}: ${results[executions++] ?? "done"}`, {
      name: "poll_job",
      description: "Polls a job.",
      schema: z.object({ job: z.string() }),
    });
    const llm = new ScriptedChatModel({
      script: (messages) => {
        const polled = messages.filter((m) => m.getType() === "tool").length;
        return polled < results.length
          ? { toolCalls: [{ name: "poll_job", args: { job: "42" }, id: `call_${polled + 1}` }] }
          : { content: "The job is done." };
      },
    });
    const agent = wrapGraph(createReactAgent({ llm, tools: [pollJob], name: "poller" }), { warden });
    return { agent, llm, executions: () => executions };
  }

  it("by default a repeated call is reported (span event, metric, summary), never refused or stopped", async () => {
    const { provider, spans } = memoryTracing();
    const warden = new Warden({ tracerProvider: provider });
    const summaries: TaskSummary[] = [];
    warden.onTaskEnd((run) => summaries.push(run.summary()));
    // Six identical polls with identical results: the bare graph runs all six, and so must the wrapped one.
    const { agent, llm, executions } = poller(warden, Array(6).fill("running"));
    const out = await agent.invoke(user("Wait for job 42."));
    expect(out.messages.at(-1)?.content).toBe("The job is done.");
    expect([llm.calls, executions()]).toEqual([7, 6]);
    expect(out.messages.filter((m: BaseMessage) => m.getType() === "tool").map((m: BaseMessage) => m.content)).toEqual(
      Array(6).fill("job 42: running"),
    );
    // Reported once, at the 5th identical call (the default count), on that call's span and the task's.
    const tools = spans().filter((s) => s.name === "execute_tool poll_job");
    expect(tools.map((s) => s.events.map((e) => e.name))).toEqual([[], [], [], [], ["agentwarden.loop.suspected"], []]);
    expect(tools[4]?.events[0]?.attributes).toEqual({ "gen_ai.tool.name": "poll_job", repeats: 5 });
    const root = spans().find((s) => s.name === "invoke_agent poller");
    expect(root?.events.map((e) => e.name)).toEqual(["agentwarden.loop.suspected"]);
    expect(summaries[0]).toMatchObject({ outcome: "success", trips: {}, suspectedLoops: { poll_job: 1 } });
    expect(warden.metrics?.snapshot().cumulative.totals.suspectedLoops).toEqual({ poll_job: 1 });
  });

  it("with stop on, polling whose results change is not a loop; the same call getting the same result is", async () => {
    const warden = new Warden({ tracing: false, loops: { stop: true } });
    const progressing = poller(warden, ["queued", "10%", "40%", "70%", "90%", "99%", "done"]);
    const out = await progressing.agent.invoke(user("Wait for job 42."));
    expect(out.messages.at(-1)?.content).toBe("The job is done.");
    expect(progressing.executions()).toBe(7);

    // Stuck: the 5th identical call (after 4 identical results) gets a hint instead of running, the 6th trips.
    const stuck = poller(warden, Array(6).fill("running"));
    const error = await stuck.agent.invoke(user("Wait for job 42.")).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isBreakerTrip(error)).toBe(true);
    expect((error as BreakerTripError).data).toMatchObject({
      kind: "loop",
      limit: 5,
      observed: 6,
      subject: "poll_job",
    });
    expect(stuck.executions()).toBe(4);
  });
});

describe("the functional API", () => {
  it("an entrypoint and its tasks: a step per task, with the model and tool calls made inside them", async () => {
    const { provider, spans } = memoryTracing();
    const warden = new Warden({ tracerProvider: provider });
    const makeWorkflow = () => {
      const model = new ScriptedChatModel({
        script: [{ content: "Tides: the moon.", usage: { input: 30, output: 4 } }],
      });
      const search = searchTool();
      const research = task("research", async (topic: string) => String(await search.invoke({ q: topic })));
      const draft = task("draft", async (notes: string[]) => {
        const reply = await model.invoke(`Write from: ${notes.join("; ")}`);
        return String(reply.content);
      });
      // A task calling a task nests under it.
      const review = task("review", async (text: string) => `${await research("review")} | ${text}`);
      return entrypoint({ name: "writer", checkpointer: new MemorySaver() }, async (topic: string) => {
        const notes = await Promise.all([research(topic), research(`${topic} moon`)]);
        return review(await draft(notes));
      });
    };
    const workflow = makeWorkflow();
    const wrapped = wrapGraph(workflow, { warden });
    const config = { configurable: { thread_id: "f-1" } };
    const out = await wrapped.invoke("tides", config);
    expect(out).toBe("results for review | Tides: the moon.");
    expect(await makeWorkflow().invoke("tides", config)).toBe(out);
    expect(tree(spans())).toEqual([
      n("invoke_workflow writer", [
        n("writer", [
          n("research", [n("execute_tool search")]),
          n("research", [n("execute_tool search")]),
          n("draft", [n("chat gpt-4o-mini")]),
          n("review", [n("research", [n("execute_tool search")])]),
        ]),
      ]),
    ]);
    const taskSpan = spans().find((s) => s.name === "draft");
    expect(taskSpan?.attributes).toMatchObject({ "langgraph.node": "draft" });
    expect(taskSpan?.attributes).not.toHaveProperty("gen_ai.node.name");
  });
});

describe("node cycles (stateCycles)", () => {
  /** A node entered 6 times with the same state (its exit condition lives outside the state). */
  function spinner(warden: Warden) {
    let entries = 0;
    const graph = new StateGraph(Annotation.Root({ job: Annotation<string>() }))
      .addNode("wait", () => {
        entries++;
        return {};
      })
      .addEdge(START, "wait")
      .addConditionalEdges("wait", () => (entries < 6 ? "wait" : END))
      .compile({ name: "spinner" });
    return { graph: wrapGraph(graph, { warden }), entries: () => entries };
  }

  it("are reported by default and stop the task only with stop", async () => {
    const { provider, spans } = memoryTracing();
    const reporting = spinner(new Warden({ tracerProvider: provider, loops: { stateCycles: true } }));
    expect(await reporting.graph.invoke({ job: "42" })).toEqual({ job: "42" });
    expect(reporting.entries()).toBe(6);
    const waits = spans().filter((s) => s.name === "wait");
    expect(waits.map((s) => s.events.map((e) => e.name))).toEqual([[], [], [], [], ["agentwarden.loop.suspected"], []]);
    expect(waits[4]?.events[0]?.attributes).toEqual({ "gen_ai.node.name": "wait", repeats: 5 });

    const stopping = spinner(new Warden({ tracing: false, loops: { stateCycles: true, stop: true } }));
    const error = await stopping.graph.invoke({ job: "42" }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isBreakerTrip(error)).toBe(true);
    expect((error as BreakerTripError).data).toMatchObject({ kind: "loop", observed: 5, subject: "wait" });
    expect(stopping.entries()).toBe(4);
  });
});

/** LangGraph's own tests (`libs/langgraph-core/src/tests/pregel.test.ts`), run on wrapped graphs. */
describe("LangGraph's pregel tests, wrapped", () => {
  const State = Annotation.Root({
    messages: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
  });
  const gather = async <T>(it: AsyncIterable<T> | Promise<AsyncIterable<T>>): Promise<T[]> => {
    const out: T[] = [];
    for await (const x of await it) out.push(x);
    return out;
  };

  it("debug retry", async () => {
    const warden = new Warden({ tracing: false });
    const checkpointer = new MemorySaver();
    const graph = wrapGraph(
      new StateGraph(State)
        .addNode("one", () => ({ messages: ["one"] }))
        .addNode("two", () => ({ messages: ["two"] }))
        .addEdge(START, "one")
        .addEdge("one", "two")
        .addEdge("two", END)
        .compile({ checkpointer }),
      { warden },
    );
    const config = { configurable: { thread_id: "1" } };
    await graph.invoke({ messages: [] }, config);
    // re-run step 1
    const targetConfig = (await gather(checkpointer.list(config))).find((i) => i.metadata?.step === 1)?.parentConfig;
    expect(targetConfig).not.toBeUndefined();
    const updateConfig = await graph.updateState(targetConfig as RunnableConfig, null);
    const events = await gather(graph.stream(null, { ...updateConfig, streamMode: "debug" }));
    const checkpointEvents = events.filter((item) => item.type === "checkpoint").map((i) => i.payload as StateSnapshot);
    const history: Record<string, StateSnapshot> = {};
    for (const item of await gather(graph.getStateHistory(config)))
      history[item.config.configurable?.checkpoint_id as string] = item;
    expect(checkpointEvents.length).toBeGreaterThan(0);
    for (const stream of checkpointEvents) {
      expect(stream.config?.configurable).not.toEqual(stream.parentConfig?.configurable);
      const h = history[stream.config.configurable?.checkpoint_id as string] as StateSnapshot;
      expect(stream.config.configurable).toEqual(h.config.configurable);
      expect(stream.parentConfig?.configurable).toEqual(h.parentConfig?.configurable);
    }
  });

  it("debug nested subgraph", async () => {
    const warden = new Warden({ tracing: false });
    const checkpointer = new MemorySaver();
    const child = new StateGraph(State)
      .addNode("c_one", () => ({ messages: ["c_one"] }))
      .addNode("c_two", () => ({ messages: ["c_two"] }))
      .addEdge(START, "c_one")
      .addEdge("c_one", "c_two")
      .addEdge("c_two", END);
    const graph = wrapGraph(
      new StateGraph(State)
        .addNode("p_one", () => ({ messages: ["p_one"] }))
        .addNode("p_two", child.compile())
        .addEdge(START, "p_one")
        .addEdge("p_one", "p_two")
        .addEdge("p_two", END)
        .compile({ checkpointer }),
      { warden },
    );
    const config = { configurable: { thread_id: "1" } };
    const checkpointEvents = (await gather(graph.stream({ messages: [] }, { ...config, streamMode: "debug" })))
      .filter((i) => i.type === "checkpoint")
      .map((i) => i.payload as StateSnapshot);
    const checkpointHistory = (await gather(graph.getStateHistory(config))).reverse();
    const sanitize = (checkpoints: StateSnapshot[]) =>
      checkpoints.map((checkpoint) => {
        const { createdAt: _, ...clone } = checkpoint;
        return {
          ...clone,
          metadata: clone.metadata ? { ...clone.metadata, thread_id: "1" } : clone.metadata,
          // debug stream events will not have result
          tasks: clone.tasks.map((task) => ({ ...task, result: undefined })),
        };
      });
    expect(sanitize(checkpointEvents)).toMatchObject(sanitize(checkpointHistory));
  });
});

describe("an already-wrapped graph used as a subgraph", () => {
  const S = Annotation.Root({ x: Annotation<number> });
  const sub = () =>
    new StateGraph(S)
      .addNode("a", (s) => ({ x: s.x + 1 }))
      .addNode("b", (s) => ({ x: s.x + 1 }))
      .addEdge(START, "a")
      .addEdge("a", "b")
      .compile({ name: "inner" });
  const parentOf = (child: unknown) =>
    new StateGraph(S)
      .addNode("child", child as ReturnType<typeof sub>)
      .addEdge(START, "child")
      .compile({ name: "outer" });

  it("is wrapped once: the same span tree and step count as a bare subgraph", async () => {
    const tracing = memoryTracing();
    // 3 node executions in all (child, a, b): a limit of 3 must not trip.
    const warden = new Warden({ tracerProvider: tracing.provider, limits: { maxSteps: 3 } });
    const bare = await wrapGraph(parentOf(sub()), { warden }).invoke({ x: 0 });
    const bareTree = tree(tracing.spans());
    tracing.exporter.reset();
    const twice = await wrapGraph(parentOf(wrapGraph(sub(), { warden })), { warden }).invoke({ x: 0 });
    expect(twice).toEqual(bare);
    expect(bare).toEqual({ x: 2 });
    expect(tree(tracing.spans())).toEqual(bareTree);
    expect(bareTree).toEqual([
      n("invoke_workflow outer", [n("child", [n("invoke_workflow inner", [n("a"), n("b")])])]),
    ]);
  });

  it("wrapped by another Warden is refused when the parent is wrapped", () => {
    const mine = new Warden({ tracing: false });
    const theirs = new Warden({ tracing: false });
    expect(() => wrapGraph(parentOf(wrapGraph(sub(), { warden: theirs })), { warden: mine })).toThrow(
      'agentwarden: the subgraph of node "child" is already wrapped by another Warden; wrap the original graph',
    );
  });
});

describe("the LangChain context that model, tool and node code runs in", () => {
  /**
   * What code can read of LangChain's AsyncLocalStorage: whether the store is a LangSmith RunTree
   * (what `traceable()` and `getCurrentRunTree()` build on), and whether the config survives
   * `setContextVariable` (which rebuilds the store from a RunTree only).
   */
  type Seen = { runTree: boolean; configAfterSet: boolean; variable: unknown };
  const look = (): Seen => {
    const store = AsyncLocalStorageProviderSingleton.getInstance().getStore();
    setContextVariable("probe", 42);
    return {
      runTree: isRunTree(store),
      configAfterSet: AsyncLocalStorageProviderSingleton.getRunnableConfig() !== undefined,
      variable: getContextVariable("probe"),
    };
  };

  /** A model that looks at its context in `_generate`, a class-based tool (its `_call` runs in the caller's store), a lambda node. */
  function build(seen: Record<string, Seen>) {
    class LookingModel extends ScriptedChatModel {
      override async _generate(...args: Parameters<ScriptedChatModel["_generate"]>) {
        seen.model ??= look();
        return super._generate(...args);
      }
    }
    class LookingTool extends StructuredTool {
      name = "search";
      description = "Searches.";
      schema = z.object({ q: z.string() });
      async _call() {
        seen.tool = look();
        return "the moon";
      }
    }
    const model = new LookingModel({
      script: [
        { toolCalls: [{ name: "search", args: { q: "tides" }, id: "call_1" }], usage: { input: 10, output: 5 } },
        { content: "Tides come from the moon.", usage: { input: 20, output: 6 } },
      ],
    });
    const agent = createReactAgent({ llm: model, tools: [new LookingTool()] });
    const State = MessagesAnnotation;
    const lambda = RunnableLambda.from(async (state: { messages: BaseMessage[] }) => {
      seen.lambda = look();
      return { messages: state.messages.slice(0, 0) };
    });
    return new StateGraph(State)
      .addNode("lambda", lambda)
      .addNode("agent", agent)
      .addEdge(START, "lambda")
      .addEdge("lambda", "agent")
      .addEdge("agent", END)
      .compile();
  }

  it("is what it is without agentwarden: a RunTree, whose config setContextVariable keeps", async () => {
    const bare: Record<string, Seen> = {};
    await build(bare).invoke(user("tides?"));
    const wrapped: Record<string, Seen> = {};
    const { provider } = memoryTracing();
    await wrapGraph(build(wrapped), {
      warden: new Warden({ tracerProvider: provider, limits: { maxCostUsd: 1 } }),
    }).invoke(user("tides?"));
    const expected = { runTree: true, configAfterSet: true, variable: 42 };
    expect(bare).toEqual({ lambda: expected, model: expected, tool: expected });
    expect(wrapped).toEqual(bare);
  });
});
