import type { AIMessage, BaseMessage } from "@langchain/core/messages";
import type { RunnableConfig } from "@langchain/core/runnables";
import { tool } from "@langchain/core/tools";
import { END, MemorySaver, MessagesAnnotation, START, StateGraph } from "@langchain/langgraph";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { createAgent } from "langchain";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { wrapGraph } from "../adapters/langgraph/index.js";
import { type Script, ScriptedChatModel, type ScriptedTurn } from "../adapters/testing/index.js";
import {
  type BreakerTripError,
  type Evaluator,
  type GuardsConfig,
  isBreakerTrip,
  lastMessageText,
  type Run,
  type Step,
  type TaskSummary,
  Warden,
} from "../src/index.js";
import { searchTool, user } from "./support/agents.js";

/*
 * Graphs wrapped by one Warden and run inside one another — a wrapped graph as a subgraph node,
 * invoked from a node of an outer wrapped graph, invoked from a tool of an outer wrapped agent —
 * keep what they were wrapped with (their guards), refuse per-invoke options they cannot honour,
 * leave their work in a trip's data, and leave nothing of agentwarden's in their stream chunks.
 */

type Messages = BaseMessage[];
type Agent = { invoke(input: unknown, config?: RunnableConfig): Promise<unknown> };

const secretText = "the code is TOPSECRET";

/** Fails an answer that gives the secret away. */
const noSecret: Evaluator = {
  name: "no_secret",
  evaluate: (state) =>
    lastMessageText(state).includes("TOPSECRET") ? { pass: false, reason: "leaks the code" } : true,
};

/** Finds live API keys: fails with the keys as matches, so a redact guard replaces just them. */
const noCredentials: Evaluator = {
  name: "no_credentials",
  evaluate(state) {
    const matches = lastMessageText(state).match(/sk-live-[A-Za-z0-9]+/g) ?? [];
    return matches.length === 0 ? true : { pass: false, reason: "a live API key", matches };
  },
};

/** Passes everything (a guard that checks and lets through). */
const polite: Evaluator = { name: "polite", evaluate: () => true };
const noInjection: Evaluator = { name: "no_injection", evaluate: () => true };

const innerGuards: GuardsConfig = { output: [{ evaluators: [noSecret], action: "block", refusal: "REFUSED" }] };

/** A model playing `turns` in order, keeping the text of every message of every call it received. */
function recordingModel(turns: ScriptedTurn[]) {
  const received: string[][] = [];
  const script: Script = (messages: BaseMessage[], call) => {
    received.push(messages.map((m) => `${m.getType()}: ${String(m.content)}`));
    const turn = turns[Math.min(call, turns.length - 1)];
    if (!turn) throw new Error("empty script");
    return turn;
  };
  return { llm: new ScriptedChatModel({ script, model: "test-model" }), received };
}

const builders = {
  createReactAgent: (llm: ScriptedChatModel, tools: ReturnType<typeof searchTool>[] = []) =>
    createReactAgent({ llm, tools, name: "inner" }),
  createAgent: (llm: ScriptedChatModel, tools: ReturnType<typeof searchTool>[] = []) =>
    createAgent({ model: llm, tools, name: "inner" }),
};

/** The compiled graph of a (wrapped) agent, to use as a subgraph node: a createAgent agent keeps it in `graph`. */
function graphOf(agent: unknown) {
  const g = (agent as { graph?: unknown }).graph;
  return (g && typeof g === "object" && "nodes" in g ? g : agent) as ReturnType<typeof createReactAgent>;
}

/** Each task's run when it ends. */
function runs(warden: Warden): Run[] {
  const out: Run[] = [];
  warden.onTaskEnd((run) => {
    out.push(run);
  });
  return out;
}

/** The graph step a step runs in: its nearest agent or workflow ancestor. */
function graphOfStep(step: Step): string {
  for (let s = step.parent; s; s = s.parent) if (s.kind === "agent" || s.kind === "workflow") return s.name;
  return "?";
}

/** Every guard decision of a run, in order: `{graph} {label} {point.action} {decision} [{evaluators}]`. */
function guardSteps(run: Run): string[] {
  const out: string[] = [];
  const visit = (s: Step) => {
    if (s.kind === "guard" && s.guard)
      out.push(
        `${graphOfStep(s)} ${s.guard.guard} ${s.name} ${s.guard.decision} [${s.children.map((c) => c.name).join(",")}]`,
      );
    for (const c of s.children) visit(c);
  };
  visit(run.root);
  return out;
}

const texts = (state: unknown) =>
  (state as { messages: Messages }).messages.map((m) => `${m.getType()}: ${String(m.content)}`);

describe.each(Object.entries(builders))(
  "a guarded %s run inside another graph wrapped by the same Warden",
  (_, build) => {
    const guarded = (warden: Warden) =>
      wrapGraph(build(new ScriptedChatModel({ script: [{ content: secretText }] })), {
        warden,
        guards: innerGuards,
      });

    it("keeps its output guard as a subgraph node", async () => {
      const warden = new Warden({ tracing: false });
      const ended = runs(warden);
      const outer = new StateGraph(MessagesAnnotation)
        .addNode("inner", graphOf(guarded(warden)))
        .addEdge(START, "inner")
        .addEdge("inner", END)
        .compile({ name: "outer" });
      const out = await wrapGraph(outer, { warden }).invoke(user("code?"));
      expect(texts(out)).toEqual(["human: code?", "ai: REFUSED"]);
      expect(guardSteps(ended[0] as Run)).toEqual(["inner output[0] output.block block [no_secret]"]);
      const summary = (ended[0] as Run).summary() as TaskSummary;
      expect([summary.outcome, summary.error?.type]).toEqual(["failure", "guard_blocked"]);
    });

    it("keeps its output guard when a node of the outer graph invokes it", async () => {
      const warden = new Warden({ tracing: false });
      const ended = runs(warden);
      const inner = guarded(warden) as unknown as Agent;
      const outer = new StateGraph(MessagesAnnotation)
        .addNode("call", async (s) => ({
          messages: [((await inner.invoke({ messages: s.messages })) as { messages: Messages }).messages.at(-1)],
        }))
        .addEdge(START, "call")
        .addEdge("call", END)
        .compile({ name: "outer" });
      const out = await wrapGraph(outer, { warden }).invoke(user("code?"));
      expect(texts(out)).toEqual(["human: code?", "ai: REFUSED"]);
      expect(ended.length).toBe(1);
      expect(guardSteps(ended[0] as Run)).toEqual(["inner output[0] output.block block [no_secret]"]);
    });

    it("keeps its output guard when a tool of an outer wrapped agent invokes it; the block ends the task", async () => {
      const warden = new Warden({ tracing: false });
      const ended = runs(warden);
      const inner = guarded(warden) as unknown as Agent;
      const askExpert = tool(
        async ({ q }: { q: string }) => lastMessageText((await inner.invoke(user(q))) as { messages: Messages }),
        { name: "ask_expert", description: "Asks the expert.", schema: z.object({ q: z.string() }) },
      );
      const { llm, received } = recordingModel([
        { toolCalls: [{ name: "ask_expert", args: { q: "code?" }, id: "call_1" }] },
        { content: "The expert says the code is TOPSECRET" },
      ]);
      const supervisor = wrapGraph(createReactAgent({ llm, tools: [askExpert], name: "supervisor" }), { warden });
      const out = await supervisor.invoke(user("What is the code?"));
      // The expert's answer was refused; the task ends with the refusal as its final answer, the
      // supervisor's model not called again.
      expect(texts(out)).toEqual(["human: What is the code?", "ai: ", "tool: REFUSED", "ai: REFUSED"]);
      expect(received.length).toBe(1);
      expect(ended.length).toBe(1);
      expect(guardSteps(ended[0] as Run)).toEqual(["inner output[0] output.block block [no_secret]"]);
      const summary = (ended[0] as Run).summary() as TaskSummary;
      expect([summary.outcome, summary.error?.type]).toEqual(["failure", "guard_blocked"]);
    });
  },
);

describe("guards of nested wrapped graphs", () => {
  it("add up: the outer graph's guards, then the nested graph's, each checking a message once", async () => {
    const warden = new Warden({ tracing: false });
    const ended = runs(warden);
    const { llm, received } = recordingModel([
      { toolCalls: [{ name: "search", args: { q: "code" }, id: "call_1" }] },
      { content: secretText },
    ]);
    const inner = wrapGraph(createReactAgent({ llm, tools: [searchTool()], name: "inner" }), {
      warden,
      guards: { ...innerGuards, input: [{ evaluators: [noInjection], action: "block" }] },
    });
    const outer = new StateGraph(MessagesAnnotation)
      .addNode("inner", inner)
      .addEdge(START, "inner")
      .addEdge("inner", END)
      .compile({ name: "outer" });
    const wrapped = wrapGraph(outer, {
      warden,
      guards: {
        input: [{ evaluators: [noCredentials], action: "redact" }],
        output: [{ evaluators: [polite], action: "block" }],
      },
    });
    const out = await wrapped.invoke(user("my key is sk-live-abc123, what is the code?"));
    expect(texts(out).at(-1)).toBe("ai: REFUSED");
    // The outer graph's redaction applies to what the nested agent's model reads.
    expect(received[0]).toEqual(["human: my key is [REDACTED:no_credentials], what is the code?"]);
    expect(received[1]?.[0]).toBe("human: my key is [REDACTED:no_credentials], what is the code?");
    expect(guardSteps(ended[0] as Run)).toEqual([
      // first model call: the user's message, by the outer guards then the inner ones
      "inner input[0] input.redact redact [no_credentials]",
      "inner input[0] input.block continue [no_injection]",
      // the tool's result, where the tool funnel makes it
      "inner input[0] input.redact continue [no_credentials]",
      "inner input[0] input.block continue [no_injection]",
      // second model call: the user's message is not checked again; the final answer is
      "inner output[0] output.block continue [polite]",
      "inner output[0] output.block block [no_secret]",
    ]);
  });

  it("a subgraph with no guards of its own stays under the outer graph's", async () => {
    const warden = new Warden({ tracing: false });
    const ended = runs(warden);
    const inner = createReactAgent({
      llm: new ScriptedChatModel({ script: [{ content: secretText }] }),
      tools: [],
      name: "inner",
    });
    const outer = new StateGraph(MessagesAnnotation)
      .addNode("inner", inner)
      .addEdge(START, "inner")
      .addEdge("inner", END)
      .compile({ name: "outer" });
    const out = await wrapGraph(outer, { warden, guards: innerGuards }).invoke(user("code?"));
    expect(texts(out)).toEqual(["human: code?", "ai: REFUSED"]);
    expect(guardSteps(ended[0] as Run)).toEqual(["inner output[0] output.block block [no_secret]"]);
  });

  it("a guarded graph's guards do not reach the outer graph's own model calls", async () => {
    const warden = new Warden({ tracing: false });
    const ended = runs(warden);
    const inner = wrapGraph(
      createReactAgent({ llm: new ScriptedChatModel({ script: [{ content: "fine" }] }), tools: [], name: "inner" }),
      {
        warden,
        guards: innerGuards,
      },
    ) as unknown as Agent;
    const askExpert = tool(
      async ({ q }: { q: string }) => lastMessageText((await inner.invoke(user(q))) as { messages: Messages }),
      { name: "ask_expert", description: "Asks the expert.", schema: z.object({ q: z.string() }) },
    );
    const supervisor = wrapGraph(
      createReactAgent({
        llm: new ScriptedChatModel({
          script: [
            { toolCalls: [{ name: "ask_expert", args: { q: "code?" }, id: "call_1" }] },
            { content: secretText },
          ],
        }),
        tools: [askExpert],
        name: "supervisor",
      }),
      { warden },
    );
    const out = await supervisor.invoke(user("What is the code?"));
    expect(texts(out)).toEqual(["human: What is the code?", "ai: ", "tool: fine", `ai: ${secretText}`]);
    expect(guardSteps(ended[0] as Run)).toEqual(["inner output[0] output.block continue [no_secret]"]);
  });
});

describe("configurable.agentwarden on a wrapped graph invoked inside another wrapped graph's task", () => {
  const looping = () =>
    new ScriptedChatModel({
      script: (_m, i) => (i < 6 ? { toolCalls: [{ name: "search", args: { q: `q${i}` } }] } : { content: "done" }),
    });
  /** Runs `inner` (a wrapped agent) from a node of a wrapped outer graph with `config`. */
  async function nested(warden: Warden, config: RunnableConfig, outerConfig?: RunnableConfig) {
    const llm = looping();
    const inner = wrapGraph(createReactAgent({ llm, tools: [searchTool()], name: "inner" }), { warden });
    const outer = new StateGraph(MessagesAnnotation)
      .addNode("call", async (s) => ({
        messages: [((await inner.invoke({ messages: s.messages }, config)) as { messages: Messages }).messages.at(-1)],
      }))
      .addEdge(START, "call")
      .addEdge("call", END)
      .compile({ name: "outer" });
    const error = await wrapGraph(outer, { warden })
      .invoke(user("go"), outerConfig)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    return { error, llm };
  }

  it("refuses an unknown key, naming it, as at the top level", async () => {
    const { error, llm } = await nested(new Warden({ tracing: false }), {
      configurable: { agentwarden: { tenent: "acme" } },
    });
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe(
      "agentwarden: unknown option configurable.agentwarden.tenent (options: limits, tenant, version)",
    );
    expect(llm.calls).toBe(0);
  });

  it("refuses limits, which apply to a whole task, naming the key", async () => {
    const { error, llm } = await nested(new Warden({ tracing: false }), {
      configurable: { agentwarden: { limits: { maxToolCalls: 1 } } },
    });
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe(
      'agentwarden: option configurable.agentwarden.limits cannot apply here: graph "inner" runs inside a task of "outer" (nested), and limits hold for a whole task; give them to the top-level invoke or to the Warden',
    );
    expect(llm.calls).toBe(0);
  });

  it("refuses a tenant or version other than the task's, and takes the task's own", async () => {
    const sharedBudgets = [{ name: "tenant", key: "tenant" as const, maxCostUsd: 1, windowMs: 60_000 }];
    const other = await nested(
      new Warden({ tracing: false, sharedBudgets }),
      { configurable: { agentwarden: { tenant: "acme" } } },
      { configurable: { agentwarden: { tenant: "globex" } } },
    );
    expect((other.error as Error).message).toBe(
      'agentwarden: option configurable.agentwarden.tenant cannot apply here: graph "inner" runs inside a task of "outer" (nested), whose tenant is "globex"; give it to the top-level invoke',
    );
    const version = await nested(new Warden({ tracing: false }), { configurable: { agentwarden: { version: "v2" } } });
    expect((version.error as Error).message).toBe(
      'agentwarden: option configurable.agentwarden.version cannot apply here: graph "inner" runs inside a task of "outer" (nested), whose version is none; give it to the top-level invoke',
    );
    const same = await nested(
      new Warden({ tracing: false, sharedBudgets }),
      { configurable: { agentwarden: { tenant: "acme", version: "v1" } } },
      { configurable: { agentwarden: { tenant: "acme", version: "v1" } } },
    );
    expect(same.error).toBeUndefined();
    expect(same.llm.calls).toBe(7);
  });

  it("the task's own configurable.agentwarden, passed on by LangGraph, is the task's: its limits count nested steps", async () => {
    const warden = new Warden({ tracing: false });
    const llm = looping();
    const inner = wrapGraph(createReactAgent({ llm, tools: [searchTool()], name: "inner" }), { warden });
    // The tool passes its own config on, as LangGraph hands it: the task's configurable.agentwarden.
    const delegate = tool(
      async ({ q }: { q: string }, config: RunnableConfig) =>
        lastMessageText((await inner.invoke(user(q), config)) as { messages: Messages }),
      { name: "delegate", description: "Delegates.", schema: z.object({ q: z.string() }) },
    );
    const supervisor = wrapGraph(
      createReactAgent({
        llm: new ScriptedChatModel({ script: [{ toolCalls: [{ name: "delegate", args: { q: "go" } }] }] }),
        tools: [delegate],
        name: "supervisor",
      }),
      { warden },
    );
    const error = await supervisor
      .invoke(user("go"), { configurable: { agentwarden: { limits: { maxToolCalls: 2 } } } })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(isBreakerTrip(error)).toBe(true);
    // delegate, then the inner agent's first search: the third call trips.
    expect((error as BreakerTripError).data.kind).toBe("tool_calls");
    expect((error as BreakerTripError).data.observed).toBe(3);
    expect(llm.calls).toBe(2);
  });
});

describe("a trip inside a nested graph", () => {
  const looping = () =>
    new ScriptedChatModel({
      script: (_m, i) =>
        i < 5 ? { toolCalls: [{ name: "search", args: { q: `q${i}` }, id: `c${i}` }] } : { content: "done" },
    });
  const types = (state: unknown) => (state as { messages: Messages }).messages.map((m) => m.getType());

  it("keeps the nested agent's work in subgraphStates; partialState is the task's graph's state", async () => {
    const warden = new Warden({ tracing: false, limits: { maxToolCalls: 2 } });
    const agent = createReactAgent({ llm: looping(), tools: [searchTool()], name: "a" });
    const outer = new StateGraph(MessagesAnnotation)
      .addNode("agent", agent)
      .addEdge(START, "agent")
      .addEdge("agent", END)
      .compile({ name: "outer" });
    const error = (await wrapGraph(outer, { warden })
      .invoke(user("go"))
      .then(
        () => undefined,
        (e: unknown) => e,
      )) as BreakerTripError;
    expect(isBreakerTrip(error)).toBe(true);
    expect(types(error.data.partialState)).toEqual(["human"]);
    const nestedStates = error.data.subgraphStates ?? [];
    expect(nestedStates.map((s) => [s.graph, types(s.state)])).toEqual([
      ["a", ["human", "ai", "tool", "ai", "tool", "ai"]],
    ]);
    // The AI message that made the refused call is there.
    const agentState = nestedStates[0]?.state as { messages: Messages } | undefined;
    const last = agentState?.messages.at(-1) as AIMessage | undefined;
    expect(last?.tool_calls?.map((c) => c.id)).toEqual(["c2"]);
  });

  it("invoked from a tool of an outer agent: partialState is the outer agent's, subgraphStates the tool's agent's", async () => {
    const warden = new Warden({ tracing: false, limits: { maxToolCalls: 3 } });
    const inner = wrapGraph(createReactAgent({ llm: looping(), tools: [searchTool()], name: "inner" }), { warden });
    const delegate = tool(
      async ({ q }: { q: string }) => lastMessageText((await inner.invoke(user(q))) as { messages: Messages }),
      { name: "delegate", description: "Delegates.", schema: z.object({ q: z.string() }) },
    );
    const supervisor = wrapGraph(
      createReactAgent({
        llm: new ScriptedChatModel({ script: [{ toolCalls: [{ name: "delegate", args: { q: "go" }, id: "d1" }] }] }),
        tools: [delegate],
        name: "supervisor",
      }),
      { warden },
    );
    const error = (await supervisor.invoke(user("go")).then(
      () => undefined,
      (e: unknown) => e,
    )) as BreakerTripError;
    expect(isBreakerTrip(error)).toBe(true);
    expect(types(error.data.partialState)).toEqual(["human", "ai"]);
    expect((error.data.subgraphStates ?? []).map((s) => [s.graph, types(s.state)])).toEqual([
      ["inner", ["human", "ai", "tool", "ai", "tool", "ai"]],
    ]);
  });

  it("at the top level carries no subgraphStates", async () => {
    const warden = new Warden({ tracing: false, limits: { maxToolCalls: 2 } });
    const agent = wrapGraph(createReactAgent({ llm: looping(), tools: [searchTool()], name: "a" }), { warden });
    const error = (await agent.invoke(user("go")).then(
      () => undefined,
      (e: unknown) => e,
    )) as BreakerTripError;
    expect(types(error.data.partialState)).toEqual(["human", "ai", "tool", "ai", "tool", "ai"]);
    expect("subgraphStates" in error.data).toBe(false);
  });
});

describe("stream chunks of a subgraph", () => {
  /** Own keys (strings and symbols) naming agentwarden anywhere in `value`, with their paths. */
  function agentwardenKeys(value: unknown, path: string, seen: Set<object>, out: string[]): string[] {
    if ((typeof value !== "object" && typeof value !== "function") || value === null || seen.has(value)) return out;
    seen.add(value);
    // A promise's async-context slot (Node's, on every promise) holds the LangChain context it was
    // made in, where agentwarden's step rides (README, "Design"): not a key or object of the chunk.
    if (value instanceof Promise) return out;
    for (const key of Reflect.ownKeys(value)) {
      const name = typeof key === "symbol" ? String(key.description) : key;
      if (/agentwarden/i.test(name)) out.push(`${path}[${String(key)}]`);
      let child: unknown;
      try {
        child = (value as Record<PropertyKey, unknown>)[key];
      } catch {
        continue;
      }
      agentwardenKeys(child, `${path}.${name}`, seen, out);
    }
    return out;
  }

  /** The task-call functions (`__pregel_call`) in the chunks' configs: name, length and own keys. */
  function taskCalls(chunks: unknown[]): string[] {
    const out = new Set<string>();
    const visit = (v: unknown, depth: number) => {
      if (typeof v !== "object" || v === null || depth > 6 || v instanceof Promise) return;
      const call = (v as { __pregel_call?: unknown }).__pregel_call;
      if (typeof call === "function")
        out.add(`${call.name}/${call.length}/${Reflect.ownKeys(call).map(String).sort().join(",")}`);
      for (const k of Object.keys(v)) visit((v as Record<string, unknown>)[k], depth + 1);
    };
    for (const c of chunks) visit(c, 0);
    return [...out];
  }

  const graphs = {
    "a subgraph node": () => {
      const agent = createReactAgent({ llm: new ScriptedChatModel({ script: [{ content: "x" }] }), tools: [] });
      return new StateGraph(MessagesAnnotation)
        .addNode("agent", agent)
        .addEdge(START, "agent")
        .addEdge("agent", END)
        .compile({ checkpointer: new MemorySaver() });
    },
    "a subgraph a node invokes with its config": () => {
      const agent = createReactAgent({ llm: new ScriptedChatModel({ script: [{ content: "x" }] }), tools: [] });
      return new StateGraph(MessagesAnnotation)
        .addNode("call", async (s, config) => agent.invoke(s, config))
        .addEdge(START, "call")
        .addEdge("call", END)
        .compile({ checkpointer: new MemorySaver() });
    },
  };

  it.each(Object.entries(graphs))(
    "%s: debug and checkpoints hold LangGraph's own task-call function",
    async (_, make) => {
      type Streaming = { stream(input: unknown, options: Record<string, unknown>): Promise<AsyncIterable<unknown>> };
      const collect = async (graph: Streaming) => {
        const chunks: unknown[] = [];
        for await (const chunk of await graph.stream(user("hi"), {
          configurable: { thread_id: "s" },
          streamMode: ["debug", "checkpoints"],
          subgraphs: true,
        }))
          chunks.push(chunk);
        return chunks;
      };
      const bare = await collect(make() as unknown as Streaming);
      const wrapped = await collect(
        wrapGraph(make(), { warden: new Warden({ tracing: false }) }) as unknown as Streaming,
      );
      expect(agentwardenKeys(wrapped, "chunks", new Set(), [])).toEqual([]);
      expect(taskCalls(bare)).toEqual(["bound call/3/length,name"]);
      expect(taskCalls(wrapped)).toEqual(taskCalls(bare));
    },
  );
});
