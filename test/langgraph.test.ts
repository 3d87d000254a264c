import { tool } from "@langchain/core/tools";
import { Annotation, Command, END, interrupt, MemorySaver, Send, START, StateGraph } from "@langchain/langgraph";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { createAgent } from "langchain";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { wrapGraph } from "../adapters/langgraph/index.js";
import { ScriptedChatModel } from "../adapters/testing/index.js";
import { type Run, Warden } from "../src/index.js";
import { searchTool, user } from "./support/agents.js";
import { memoryTracing, n, one, tree } from "./support/otel.js";

/** One turn with two parallel searches, then an answer; usage differs per turn so sums are checkable. */
function twoSearchesModel() {
  return new ScriptedChatModel({
    script: (messages) =>
      messages.some((m) => m.getType() === "tool")
        ? { content: "Paris has 2.1M people.", usage: { input: 220, output: 12 } }
        : {
            toolCalls: [
              { name: "search", args: { q: "paris population" }, id: "call_a" },
              { name: "search", args: { q: "paris area" }, id: "call_b" },
            ],
            usage: { input: 100, output: 30, cacheRead: 64, cacheWrite: 16 },
          },
  });
}

describe("StateGraph", () => {
  const State = Annotation.Root({
    topic: Annotation<string>(),
    sources: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
    draft: Annotation<string>(),
  });

  function pipeline(model: ScriptedChatModel) {
    return new StateGraph(State)
      .addNode("plan", async () => ({}))
      .addNode("gather", async (s: { source: string }) => ({ sources: [s.source] }))
      .addNode("write", async (s: typeof State.State) => {
        const reply = await model.invoke(`Write about ${s.topic} from ${s.sources.join(", ")}`);
        return { draft: String(reply.content) };
      })
      .addNode("reject", async () => ({ draft: "no topic" }))
      .addEdge(START, "plan")
      .addConditionalEdges("plan", (s) =>
        s.topic ? ["wiki", "news"].map((source) => new Send("gather", { source })) : "reject",
      )
      .addEdge("gather", "write")
      .addEdge("write", END)
      .addEdge("reject", END)
      .compile({ name: "pipeline" });
  }

  it("traces conditional edges and a parallel fan-out as one workflow with a span per node execution", async () => {
    const { provider, spans } = memoryTracing();
    const warden = new Warden({ tracerProvider: provider });
    const model = new ScriptedChatModel({ script: [{ content: "A draft.", usage: { input: 40, output: 8 } }] });
    const graph = wrapGraph(pipeline(model), { warden });

    const result = await graph.invoke({ topic: "tides" });
    expect(result.draft).toBe("A draft.");
    expect(result.sources.sort()).toEqual(["news", "wiki"]);
    expect(tree(spans())).toEqual([
      n("invoke_workflow pipeline", [n("plan"), n("gather"), n("gather"), n("write", [n("chat gpt-4o-mini")])]),
    ]);
    const root = one(spans(), "invoke_workflow pipeline");
    expect(root.kind).toBe(SpanKind.INTERNAL);
    expect(root.attributes).toEqual({ "gen_ai.operation.name": "invoke_workflow", "gen_ai.workflow.name": "pipeline" });
    const gathers = spans().filter((s) => s.name === "gather");
    expect(gathers.map((s) => s.attributes["langgraph.step"])).toEqual([2, 2]);
    // No node convention yet: langgraph.* only (gen_ai.node.name is not in the conventions).
    expect(one(spans(), "plan").attributes).toEqual({
      "langgraph.node": "plan",
      "langgraph.step": 1,
      "langgraph.attempt": 1,
    });

    // The other branch of the condition.
    await graph.invoke({ topic: "" });
    expect(tree(spans()).at(-1)).toEqual(n("invoke_workflow pipeline", [n("plan"), n("reject")]));
  });

  it("leaves the graph passed in untouched and keeps the wrapped graph's type and output", async () => {
    const { provider, spans } = memoryTracing();
    const warden = new Warden({ tracerProvider: provider });
    const original = pipeline(new ScriptedChatModel({ script: [{ content: "x" }] }));
    const wrapped = wrapGraph(original, { warden });
    expect(wrapped).not.toBe(original);
    expect(wrapGraph(wrapped, { warden })).toBe(wrapped);
    await original.invoke({ topic: "" });
    expect(spans()).toHaveLength(0);
    const other = new Warden({ tracerProvider: provider });
    expect(() => wrapGraph(wrapped, { warden: other })).toThrow(/already wrapped by another Warden/);
  });
});

describe("createReactAgent", () => {
  it("traces agent → node → chat and two parallel execute_tool spans with usage, cache tokens and call ids", async () => {
    const { provider, spans } = memoryTracing();
    const warden = new Warden({ tracerProvider: provider });
    const agent = wrapGraph(createReactAgent({ llm: twoSearchesModel(), tools: [searchTool()], name: "researcher" }), {
      warden,
    });
    const ended: Run[] = [];
    warden.onTaskEnd((run) => ended.push(run));

    const out = await agent.invoke(user("How many people live in Paris?"), { configurable: { thread_id: "conv-7" } });
    expect(out.messages.at(-1)?.content).toBe("Paris has 2.1M people.");
    expect(tree(spans())).toEqual([
      n("invoke_agent researcher", [
        n("agent", [n("chat gpt-4o-mini")]),
        n("tools", [n("execute_tool search"), n("execute_tool search")]),
        n("agent", [n("chat gpt-4o-mini")]),
      ]),
    ]);

    const root = one(spans(), "invoke_agent researcher");
    expect(root.attributes).toEqual({
      "gen_ai.operation.name": "invoke_agent",
      "gen_ai.agent.name": "researcher",
      "gen_ai.conversation.id": "conv-7",
      // invoke_agent requires the provider: the agent's model calls', known at its end.
      "gen_ai.provider.name": "openai",
      "gen_ai.request.model": "gpt-4o-mini",
      // 100 + 220 in, 30 + 12 out; no cache sums on an internal invoke_agent span.
      "gen_ai.usage.input_tokens": 320,
      "gen_ai.usage.output_tokens": 42,
    });
    const [first, second] = spans().filter((s) => s.name === "chat gpt-4o-mini");
    expect(first?.kind).toBe(SpanKind.CLIENT);
    expect(first?.attributes).toEqual({
      "gen_ai.operation.name": "chat",
      "gen_ai.provider.name": "openai",
      "gen_ai.request.model": "gpt-4o-mini",
      "gen_ai.response.model": "gpt-4o-mini",
      "gen_ai.response.finish_reasons": ["tool_calls"],
      "gen_ai.conversation.id": "conv-7",
      "gen_ai.usage.input_tokens": 100,
      "gen_ai.usage.output_tokens": 30,
      "gen_ai.usage.cache_read.input_tokens": 64,
      "gen_ai.usage.cache_creation.input_tokens": 16,
    });
    expect(second?.attributes["gen_ai.response.finish_reasons"]).toEqual(["stop"]);
    const tools = spans().filter((s) => s.name === "execute_tool search");
    expect(tools.map((s) => s.attributes)).toEqual([
      {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "search",
        "gen_ai.tool.type": "function",
        "gen_ai.tool.call.id": "call_a",
        "gen_ai.tool.description": "Searches the web.",
        "gen_ai.agent.name": "researcher",
        "gen_ai.conversation.id": "conv-7",
      },
      {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "search",
        "gen_ai.tool.type": "function",
        "gen_ai.tool.call.id": "call_b",
        "gen_ai.tool.description": "Searches the web.",
        "gen_ai.agent.name": "researcher",
        "gen_ai.conversation.id": "conv-7",
      },
    ]);
    expect(tools.every((s) => s.kind === SpanKind.INTERNAL)).toBe(true);
    // Both tool calls overlap in time: they ran in parallel under one `tools` node.
    expect(spans().every((s) => s.status.code === SpanStatusCode.UNSET)).toBe(true);

    expect(ended).toHaveLength(1);
    const run = ended[0] as Run;
    expect(run.outcome).toBe("success");
    expect(run.usage).toEqual({ input: 320, output: 42, cacheRead: 64, cacheWrite: 16 });
    expect(run.counts).toMatchObject({ nodes: 3, chats: 2, tools: 2, toolErrors: 0, chatsWithoutUsage: 0 });
    expect(warden.stats()).toMatchObject({ tasksStarted: 1, tasksEnded: 1, openTasks: 0, telemetryErrors: {} });
  });

  it("marks a tool that throws as an error span while ToolNode turns it into a message and the agent goes on", async () => {
    const { provider, spans } = memoryTracing();
    const warden = new Warden({ tracerProvider: provider });
    const broken = tool(
      async () => {
        throw new RangeError("quota exceeded");
      },
      { name: "search", description: "Searches.", schema: z.object({ q: z.string() }) },
    );
    const model = new ScriptedChatModel({
      script: (messages) =>
        messages.some((m) => m.getType() === "tool")
          ? { content: "Sorry, search failed." }
          : { toolCalls: [{ name: "search", args: { q: "x" }, id: "c1" }] },
    });
    const agent = wrapGraph(createReactAgent({ llm: model, tools: [broken] }), { warden, name: "fragile" });
    const out = await agent.invoke(user("go"));
    expect(out.messages.at(-1)?.content).toBe("Sorry, search failed.");
    expect(tree(spans())).toEqual([
      n("invoke_agent fragile", [
        n("agent", [n("chat gpt-4o-mini")]),
        n("tools", [n("execute_tool search", [], "ERROR")]),
        n("agent", [n("chat gpt-4o-mini")]),
      ]),
    ]);
    const failed = one(spans(), "execute_tool search");
    expect(failed.attributes["error.type"]).toBe("RangeError");
    expect(failed.status.message).toBe("quota exceeded");
  });
});

describe("langchain createAgent", () => {
  it("traces a createAgent agent through its model_request and tools nodes (one tools node per call)", async () => {
    const { provider, spans } = memoryTracing();
    const warden = new Warden({ tracerProvider: provider });
    const agent = wrapGraph(createAgent({ model: twoSearchesModel(), tools: [searchTool()], name: "helper" }), {
      warden,
    });
    const out = await agent.invoke(user("Paris?"));
    expect(out.messages.at(-1)?.content).toBe("Paris has 2.1M people.");
    expect(tree(spans())).toEqual([
      n("invoke_agent helper", [
        n("model_request", [n("chat gpt-4o-mini")]),
        // createAgent sends each tool call to its own `tools` task (Send), run in parallel.
        n("tools", [n("execute_tool search")]),
        n("tools", [n("execute_tool search")]),
        n("model_request", [n("chat gpt-4o-mini")]),
      ]),
    ]);
    expect(one(spans(), "invoke_agent helper").attributes["gen_ai.usage.input_tokens"]).toBe(320);
  });
});

describe("subgraphs, retries and interrupts", () => {
  const S = Annotation.Root({ log: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }) });

  it("nests a compiled subgraph's workflow and nodes under the parent node that runs it", async () => {
    const { provider, spans } = memoryTracing();
    const warden = new Warden({ tracerProvider: provider });
    const research = new StateGraph(S)
      .addNode("search", async () => ({ log: ["search"] }))
      .addNode("summarize", async () => ({ log: ["summarize"] }))
      .addEdge(START, "search")
      .addEdge("search", "summarize")
      .compile({ name: "research" });
    const parent = new StateGraph(S)
      .addNode("prepare", async () => ({ log: ["prepare"] }))
      .addNode("research", research)
      .addNode("finish", async () => ({ log: ["finish"] }))
      .addEdge(START, "prepare")
      .addEdge("prepare", "research")
      .addEdge("research", "finish")
      .compile({ name: "report" });
    const out = await wrapGraph(parent, { warden }).invoke({ log: [] });
    expect(out.log).toEqual(["prepare", "prepare", "search", "summarize", "finish"]);
    expect(tree(spans())).toEqual([
      n("invoke_workflow report", [
        n("prepare"),
        n("research", [n("invoke_workflow research", [n("search"), n("summarize")])]),
        n("finish"),
      ]),
    ]);
    expect(warden.stats().tasksEnded).toBe(1);
  });

  it("gives each attempt of a node under a RetryPolicy its own span: the failed one an error, the next ok", async () => {
    const { provider, spans } = memoryTracing();
    const warden = new Warden({ tracerProvider: provider });
    let calls = 0;
    const graph = new StateGraph(S)
      .addNode(
        "flaky",
        async () => {
          calls++;
          if (calls === 1) throw new Error("connection reset");
          return { log: ["ok"] };
        },
        { retryPolicy: { maxAttempts: 3, initialInterval: 1, jitter: false, logWarning: false } },
      )
      .addEdge(START, "flaky")
      .compile({ name: "retrying" });
    const out = await wrapGraph(graph, { warden }).invoke({ log: [] });
    expect(out.log).toEqual(["ok"]);
    expect(tree(spans())).toEqual([n("invoke_workflow retrying", [n("flaky", [], "ERROR"), n("flaky")])]);
    const [a1, a2] = spans().filter((s) => s.name === "flaky");
    expect([a1?.attributes["langgraph.attempt"], a2?.attributes["langgraph.attempt"]]).toEqual([1, 2]);
    expect(a1?.attributes["error.type"]).toBe("Error");
  });

  it("treats interrupt() as a pause, not an error, and traces the resumed run under the same conversation", async () => {
    const { provider, spans } = memoryTracing();
    const warden = new Warden({ tracerProvider: provider });
    const outcomes: string[] = [];
    warden.onTaskEnd((run) => outcomes.push(run.outcome ?? "?"));
    const graph = new StateGraph(S)
      .addNode("ask", async () => ({ log: [`approved:${interrupt("approve?")}`] }))
      .addNode("act", async () => ({ log: ["acted"] }))
      .addEdge(START, "ask")
      .addEdge("ask", "act")
      .compile({ name: "approval", checkpointer: new MemorySaver() });
    const app = wrapGraph(graph, { warden });
    const config = { configurable: { thread_id: "thread-1" } };

    const paused = await app.invoke({ log: [] }, config);
    expect((paused as { __interrupt__?: Array<{ value: unknown }> }).__interrupt__?.[0]?.value).toBe("approve?");
    expect(tree(spans())).toEqual([n("invoke_workflow approval", [n("ask")])]);
    const first = one(spans(), "invoke_workflow approval");
    expect(first.attributes["agentwarden.step.status"]).toBe("interrupted");
    expect(one(spans(), "ask").attributes["agentwarden.step.status"]).toBe("interrupted");
    expect(one(spans(), "ask").events.map((e) => e.name)).toEqual(["agentwarden.interrupt"]);

    const done = await app.invoke(new Command({ resume: "yes" }), config);
    expect(done.log).toEqual(["approved:yes", "acted"]);
    const all = tree(spans());
    expect(all).toEqual([
      n("invoke_workflow approval", [n("ask")]),
      n("invoke_workflow approval", [n("ask"), n("act")]),
    ]);
    const roots = spans().filter((s) => s.name === "invoke_workflow approval");
    // invoke_workflow has no gen_ai.conversation.id in the conventions: the thread id is an extension there.
    expect(roots.map((s) => s.attributes["langgraph.thread_id"])).toEqual(["thread-1", "thread-1"]);
    expect(roots[0]?.spanContext().traceId).not.toBe(roots[1]?.spanContext().traceId);
    expect(outcomes).toEqual(["interrupted", "success"]);
  });
});

describe("streaming, batch and events keep their behaviour", () => {
  function agentPair() {
    const { provider, spans } = memoryTracing();
    const warden = new Warden({ tracerProvider: provider });
    const bare = createReactAgent({ llm: twoSearchesModel(), tools: [searchTool()], name: "streamer" });
    const wrapped = wrapGraph(createReactAgent({ llm: twoSearchesModel(), tools: [searchTool()], name: "streamer" }), {
      warden,
    });
    return { bare, wrapped, spans, warden };
  }
  const expected = [
    n("invoke_agent streamer", [
      n("agent", [n("chat gpt-4o-mini")]),
      n("tools", [n("execute_tool search"), n("execute_tool search")]),
      n("agent", [n("chat gpt-4o-mini")]),
    ]),
  ];

  it("stream with streamMode updates yields the same chunks and the same tree", async () => {
    const { bare, wrapped, spans } = agentPair();
    const collect = async (g: typeof bare) => {
      const keys: string[] = [];
      for await (const chunk of await g.stream(user("q"), { streamMode: "updates" })) keys.push(...Object.keys(chunk));
      return keys;
    };
    const [a, b] = [await collect(bare), await collect(wrapped)];
    expect(b).toEqual(a);
    expect(b).toEqual(["agent", "tools", "agent"]);
    expect(tree(spans())).toEqual(expected);
  });

  it("stream with streamMode messages streams tokens and still records usage from the last chunk", async () => {
    const { bare, wrapped, spans } = agentPair();
    const collect = async (g: typeof bare) => {
      const texts: string[] = [];
      for await (const [message] of await g.stream(user("q"), { streamMode: "messages" })) {
        if (message.getType() === "ai" && typeof message.content === "string" && message.content)
          texts.push(message.content);
      }
      return texts;
    };
    const [a, b] = [await collect(bare), await collect(wrapped)];
    expect(b).toEqual(a);
    expect(b.join("")).toBe("Paris has 2.1M people.");
    expect(b.length).toBeGreaterThan(1);
    expect(tree(spans())).toEqual(expected);
    const chats = spans().filter((s) => s.name === "chat gpt-4o-mini");
    expect(chats.map((s) => s.attributes["gen_ai.usage.input_tokens"])).toEqual([100, 220]);
  });

  it("stream with several modes at once, streamEvents and batch", async () => {
    const { bare, wrapped, spans, warden } = agentPair();
    const modes: string[] = [];
    for await (const [mode] of await wrapped.stream(user("q"), { streamMode: ["updates", "values"] })) modes.push(mode);
    const bareModes: string[] = [];
    for await (const [mode] of await bare.stream(user("q"), { streamMode: ["updates", "values"] }))
      bareModes.push(mode);
    expect(modes).toEqual(bareModes);

    const events: string[] = [];
    for await (const e of wrapped.streamEvents(user("q"), { version: "v2" }))
      if (e.event === "on_tool_end") events.push(e.name);
    expect(events).toEqual(["search", "search"]);

    const outs = await wrapped.batch([user("a"), user("b")]);
    expect(outs.map((o) => o.messages.at(-1)?.content)).toEqual(["Paris has 2.1M people.", "Paris has 2.1M people."]);
    expect(tree(spans())).toEqual([...expected, ...expected, ...expected, ...expected]);
    expect(warden.stats()).toMatchObject({ tasksStarted: 4, tasksEnded: 4, openTasks: 0 });
  });

  it("a consumer that stops reading early ends the task as cancelled, leaving nothing open", async () => {
    const { wrapped, spans, warden } = agentPair();
    const outcomes: string[] = [];
    warden.onTaskEnd((run) => outcomes.push(run.outcome ?? "?"));
    for await (const _ of await wrapped.stream(user("q"), { streamMode: "updates" })) break;
    expect(outcomes).toEqual(["cancelled"]);
    expect(warden.stats().openTasks).toBe(0);
    expect(one(spans(), "invoke_agent streamer").attributes["agentwarden.step.status"]).toBe("cancelled");
  });
});

describe("active context", () => {
  it("makes node, model and tool spans active, so spans started inside their bodies are their children", async () => {
    const { provider, spans } = memoryTracing();
    const warden = new Warden({ tracerProvider: provider });
    const userTracer = provider.getTracer("app");
    const fetcher = tool(
      async ({ url }: { url: string }) => {
        const span = userTracer.startSpan(`GET ${url}`);
        span.end();
        return "200 OK";
      },
      { name: "fetch", description: "HTTP GET.", schema: z.object({ url: z.string() }) },
    );
    const model = new ScriptedChatModel({
      script: (messages) =>
        messages.some((m) => m.getType() === "tool")
          ? { content: "fetched" }
          : { toolCalls: [{ name: "fetch", args: { url: "/health" } }] },
    });
    const agent = wrapGraph(createReactAgent({ llm: model, tools: [fetcher], name: "web" }), { warden });
    const outer = userTracer.startSpan("request");
    await trace.getTracer("x").startActiveSpan("noop", async (s) => s.end());
    const ctx = trace.setSpan((await import("@opentelemetry/api")).context.active(), outer);
    await (await import("@opentelemetry/api")).context.with(ctx, () => agent.invoke(user("check")));
    outer.end();
    expect(tree(spans())).toEqual([
      n("request", [
        n("invoke_agent web", [
          n("agent", [n("chat gpt-4o-mini")]),
          n("tools", [n("execute_tool fetch", [n("GET /health")])]),
          n("agent", [n("chat gpt-4o-mini")]),
        ]),
      ]),
    ]);
  });
});
