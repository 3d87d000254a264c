import { getContextVariable, setContextVariable } from "@langchain/core/context";
import { tool } from "@langchain/core/tools";
import { Annotation, START, StateGraph } from "@langchain/langgraph";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  InMemorySpanExporter,
  type ReadableSpan,
} from "@opentelemetry/sdk-trace-base";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { wrapGraph } from "../adapters/langgraph/index.js";
import { ScriptedChatModel } from "../adapters/testing/index.js";
import {
  currentStep,
  guardExporter,
  injectionCheck,
  redactSecrets,
  redactWith,
  type Subscriber,
  Warden,
} from "../src/index.js";
import { user } from "./support/agents.js";
import { memoryTracing, n, one, tree, useContextManager } from "./support/otel.js";

function echoAgent(warden: Warden, options: { usage?: null } = {}) {
  const echo = tool(async ({ text }: { text: string }) => `echo:${text}`, {
    name: "echo",
    description: "Echoes.",
    schema: z.object({ text: z.string() }),
  });
  const model = new ScriptedChatModel({
    script: (messages) => {
      const last = messages.at(-1);
      if (last?.getType() === "tool") return { content: `answer ${String(last.content)}`, ...options };
      return { toolCalls: [{ name: "echo", args: { text: String(messages[0]?.content) } }], ...options };
    },
  });
  return wrapGraph(createReactAgent({ llm: model, tools: [echo], name: "echoer" }), { warden });
}

/** 6 step bodies (3 nodes, 2 chats, 1 tool) + pulls of the root's stream (invoke reads 4 chunks + the end). */
const ACTIVATIONS = 6 + 5;

describe("concurrency", () => {
  it("gives 100 concurrent invokes of one wrapped graph 100 separate, correct trees", async () => {
    const { provider, spans } = memoryTracing();
    const warden = new Warden({ tracerProvider: provider, captureContent: true });
    const agent = echoAgent(warden);
    const outs = await Promise.all(
      Array.from({ length: 100 }, (_, i) => agent.invoke(user(`task-${i}`), { configurable: { thread_id: `t${i}` } })),
    );
    for (const [i, o] of outs.entries()) expect(o.messages.at(-1)?.content).toBe(`answer echo:task-${i}`);

    const traces = new Map<string, ReadableSpan[]>();
    for (const s of spans()) {
      const id = s.spanContext().traceId;
      traces.set(id, [...(traces.get(id) ?? []), s]);
    }
    expect(traces.size).toBe(100);
    const seen = new Set<string>();
    for (const trace of traces.values()) {
      expect(tree(trace)).toEqual([
        n("invoke_agent echoer", [
          n("agent", [n("chat gpt-4o-mini")]),
          n("tools", [n("execute_tool echo")]),
          n("agent", [n("chat gpt-4o-mini")]),
        ]),
      ]);
      // Every span of a trace belongs to the same task: the tool saw that task's own input.
      const thread = one(trace, "invoke_agent echoer").attributes["gen_ai.conversation.id"] as string;
      const i = thread.slice(1);
      expect(one(trace, "execute_tool echo").attributes["gen_ai.tool.call.arguments"]).toBe(`{"text":"task-${i}"}`);
      seen.add(thread);
    }
    expect(seen.size).toBe(100);
    expect(warden.stats()).toMatchObject({ tasksStarted: 100, tasksEnded: 100, openTasks: 0 });
  });
});

describe("the step inside a tool body", () => {
  it("survives setContextVariable, which rebuilds LangChain's store", async () => {
    const seen: Array<string | undefined> = [];
    const probe = tool(
      async () => {
        seen.push(currentStep()?.name);
        setContextVariable("tenant", "acme");
        seen.push(currentStep()?.name);
        return `tenant ${getContextVariable("tenant")}`;
      },
      { name: "probe", description: "Probes.", schema: z.object({}) },
    );
    const model = new ScriptedChatModel({
      script: (messages) =>
        messages.at(-1)?.getType() === "tool"
          ? { content: String(messages.at(-1)?.content) }
          : { toolCalls: [{ name: "probe", args: {} }] },
    });
    const warden = new Warden({ tracing: false });
    const out = await wrapGraph(createReactAgent({ llm: model, tools: [probe], name: "prober" }), { warden }).invoke(
      user("go"),
    );
    expect(out.messages.at(-1)?.content).toBe("tenant acme");
    expect(seen).toEqual(["probe", "probe"]);
  });
});

describe("bad input", () => {
  it("rejects what is not a compiled graph with a TypeError saying what was expected", () => {
    const warden = new Warden({ tracing: false });
    const builder = new StateGraph(Annotation.Root({ x: Annotation<number>() }));
    expect(() => wrapGraph(builder, { warden })).toThrow(TypeError);
    expect(() => wrapGraph(builder, { warden })).toThrow(
      /expects a compiled LangGraph graph \(StateGraph.compile\(\), createReactAgent\(\), entrypoint\(\)\) or a langchain createAgent\(\) agent, got an instance of StateGraph/,
    );
    expect(() => wrapGraph({ invoke() {} }, { warden })).toThrow(/got a plain object/);
    expect(() => wrapGraph(null, { warden })).toThrow(/got null/);
    const graph = builder
      .addNode("a", () => ({}))
      .addEdge(START, "a")
      .compile();
    expect(() => wrapGraph(graph, { warden: {} as Warden })).toThrow(
      /option warden must be a Warden, got a plain object/,
    );
    expect(() => wrapGraph(graph, { warden, name: "" })).toThrow(/option name must be a non-empty string/);
    expect(() => wrapGraph(graph, { warden, kind: "bot" as "agent" })).toThrow(
      /option kind must be "agent" or "workflow", got string "bot"/,
    );
  });

  it("refuses a misspelt wrapGraph option or configurable.agentwarden key, naming it (a guard or a tenant left off silently)", async () => {
    const warden = new Warden({ tracing: false });
    const graph = new StateGraph(Annotation.Root({ x: Annotation<number>() }))
      .addNode("a", () => ({ x: 2 }))
      .addEdge(START, "a")
      .compile();
    const guard = { input: [{ evaluators: [injectionCheck()], action: "block" as const }] };
    expect(() => wrapGraph(graph, { warden, guard } as never)).toThrow(
      "agentwarden: unknown wrapGraph option guard (options: warden, name, kind, finalEvals, corrections, version, guards)",
    );
    expect(() => wrapGraph(graph, { warden, bogus: 1, other: 2 } as never)).toThrow(
      /unknown wrapGraph option bogus, other/,
    );
    const wrapped = wrapGraph(graph, { warden });
    await expect(wrapped.invoke({ x: 1 }, { configurable: { agentwarden: { tenent: "acme" } } })).rejects.toThrow(
      "agentwarden: unknown option configurable.agentwarden.tenent (options: limits, tenant, version)",
    );
    await expect(wrapped.invoke({ x: 1 }, { configurable: { agentwarden: { tenant: 7 } } })).rejects.toThrow(
      "agentwarden: option configurable.agentwarden.tenant must be a non-empty string, got number 7",
    );
    // Known keys still work, and nothing was left open by the refused invokes.
    expect(
      await wrapped.invoke({ x: 1 }, { configurable: { agentwarden: { tenant: "acme", version: "v2" } } }),
    ).toEqual({
      x: 2,
    });
    expect(warden.stats().openTasks).toBe(0);
  });

  it("rejects invalid Warden options at construction, naming the field and the value", () => {
    expect(() => new Warden({ captureContent: "yes" as unknown as boolean })).toThrow(TypeError);
    expect(() => new Warden({ captureContent: "yes" as unknown as boolean })).toThrow(
      /option captureContent is invalid: .*expected boolean.* \(got "yes"\)/,
    );
    expect(() => new Warden({ maxContentLength: 0 })).toThrow(RangeError);
    expect(() => new Warden({ maxContentLength: 0 })).toThrow(/option maxContentLength is invalid.*\(got 0\)/);
    expect(() => new Warden({ tracerProvider: {} as never })).toThrow(
      /option tracerProvider is invalid: expected a TracerProvider/,
    );
    expect(() => new Warden({ redact: "none" as never })).toThrow(/option redact is invalid: expected a function/);
    expect(() => new Warden({ vocabularies: ["zipkin" as never] })).toThrow(/option vocabularies.0 is invalid/);
    expect(() => new Warden({ captureContnet: true } as never)).toThrow(/unknown option captureContnet/);
    // A choice among values and a function: the choices are named.
    expect(() => new Warden({ onTrip: "stop" as never })).toThrow(
      'agentwarden: option onTrip is invalid: expected one of "abort"|"finalize"|"ask"|a function (trip, run) => action (got "stop")',
    );
    expect(
      () => new Warden({ sharedBudgets: [{ name: "t", key: "tennant" as never, maxCostUsd: 1, windowMs: 1_000 }] }),
    ).toThrow(
      'agentwarden: option sharedBudgets.0.key is invalid: expected one of "task"|"thread"|"tenant"|a function (context) => string | undefined (got "tennant")',
    );
    expect(() => new Warden(42 as never)).toThrow(/options must be an object, got 42/);
  });

  it("a model that reports no usage yields chat spans without token attributes, marked as missing usage", async () => {
    const { provider, spans } = memoryTracing();
    const warden = new Warden({ tracerProvider: provider });
    const ends: Array<{ usage: unknown; missing: number }> = [];
    warden.onTaskEnd((run) => ends.push({ usage: run.usage, missing: run.counts.chatsWithoutUsage }));
    await echoAgent(warden, { usage: null }).invoke(user("x"));
    const chats = spans().filter((s) => s.name === "chat gpt-4o-mini");
    expect(chats).toHaveLength(2);
    for (const chat of chats) {
      expect(Object.keys(chat.attributes).filter((k) => k.startsWith("gen_ai.usage."))).toEqual([]);
      expect(chat.attributes["agentwarden.usage.missing"]).toBe(true);
    }
    const root = one(spans(), "invoke_agent echoer");
    expect(Object.keys(root.attributes).filter((k) => k.startsWith("gen_ai.usage."))).toEqual([]);
    expect(ends).toEqual([{ usage: undefined, missing: 2 }]);
  });

  it("an exporter that throws does not fail the invoke; guarded, its failures are counted and reported", async () => {
    useContextManager();
    const reported: string[] = [];
    const warden = new Warden({ onError: (_e, source) => reported.push(source) });
    let exports = 0;
    const throwing = {
      export() {
        exports++;
        throw new Error("collector unreachable");
      },
      async shutdown() {},
    };
    const provider = new BasicTracerProvider({
      spanProcessors: [
        new BatchSpanProcessor(guardExporter(throwing, warden.reportError), { scheduledDelayMillis: 1 }),
      ],
    });
    const traced = new Warden({ tracerProvider: provider, onError: warden.reportError });
    const out = await echoAgent(traced).invoke(user("still works"));
    expect(out.messages.at(-1)?.content).toBe("answer echo:still works");
    // The SDK's forceFlush rejects after a failed export: warden.flush() reports that too, never throws.
    await traced.flush();
    expect(exports).toBeGreaterThanOrEqual(1);
    expect(reported.filter((s) => s === "exporter:spans")).toHaveLength(exports);
    expect(warden.stats().telemetryErrors["exporter:spans"]).toBe(exports);
    expect(new Set(reported)).toEqual(new Set(["exporter:spans", "subscriber:tracing"]));

    // Unguarded, a throwing exporter inside the SDK's processor still never reaches the agent.
    const raw = new BasicTracerProvider({
      spanProcessors: [new BatchSpanProcessor(throwing, { scheduledDelayMillis: 1 })],
    });
    const again = await echoAgent(new Warden({ tracerProvider: raw })).invoke(user("again"));
    expect(again.messages.at(-1)?.content).toBe("answer echo:again");
    await new Warden({ tracerProvider: raw, onError: () => undefined }).flush();
  });

  it("a subscriber that throws, and a span processor that throws, are counted and the agent goes on", async () => {
    useContextManager();
    const reported: Array<[string, string]> = [];
    const exploding = {
      onStart() {
        throw new Error("processor bug");
      },
      onEnd() {},
      async forceFlush() {},
      async shutdown() {},
    };
    const provider = new BasicTracerProvider({ spanProcessors: [exploding] });
    const warden = new Warden({
      tracerProvider: provider,
      onError: (e, source) => reported.push([source, (e as Error).message]),
    });
    const faulty: Subscriber = {
      name: "faulty",
      onStepStart() {
        throw new Error("start bug");
      },
      onStepEnd() {
        throw new Error("end bug");
      },
      activate() {
        throw new Error("activate bug");
      },
    };
    warden.use(faulty);
    const out = await echoAgent(warden).invoke(user("go"));
    expect(out.messages.at(-1)?.content).toBe("answer echo:go");
    // 7 steps (root, 3 nodes, 2 chats, 1 tool): each start and end fails once for `faulty`, and each
    // span start fails once in the processor. Activation fails once per step body, and for the root
    // once per pull of the graph's stream.
    const count = (source: string, message: string) =>
      reported.filter(([s, m]) => s === source && m === message).length;
    expect(count("subscriber:faulty", "start bug")).toBe(7);
    expect(count("subscriber:faulty", "end bug")).toBe(7);
    expect(count("subscriber:faulty", "activate bug")).toBe(ACTIVATIONS);
    expect(count("subscriber:tracing", "processor bug")).toBe(7);
    const stats = warden.stats();
    expect(stats.telemetryErrors["subscriber:faulty"]).toBe(14 + ACTIVATIONS);
    expect(stats.telemetryErrors["subscriber:tracing"]).toBe(7);
    expect(stats.openTasks).toBe(0);
  });
});

describe("content capture", () => {
  it("captures no prompts, messages or tool payloads by default", async () => {
    const { provider, spans } = memoryTracing();
    await echoAgent(new Warden({ tracerProvider: provider })).invoke(user("secret plan"));
    const keys = spans().flatMap((s) => Object.keys(s.attributes));
    for (const k of [
      "gen_ai.input.messages",
      "gen_ai.output.messages",
      "gen_ai.tool.call.arguments",
      "gen_ai.tool.call.result",
    ]) {
      expect(keys).not.toContain(k);
    }
    expect(JSON.stringify(spans().map((s) => s.attributes))).not.toContain("secret plan");
  });

  it("captures content when opted in, every value through the redaction hook", async () => {
    const { provider, spans } = memoryTracing();
    const fields: string[] = [];
    const warden = new Warden({
      tracerProvider: provider,
      captureContent: true,
      redact: (text, field) => {
        fields.push(field);
        return redactSecrets(text, field).replace(/launch codes/g, "[CLASSIFIED]");
      },
    });
    await echoAgent(warden).invoke(user("mail bob@example.com the launch codes, key sk-ant-abcdefghijklmnopqrstuv"));
    const exported = JSON.stringify(spans().map((s) => s.attributes));
    expect(exported).not.toContain("bob@example.com");
    expect(exported).not.toContain("sk-ant-abcdefghijklmnopqrstuv");
    expect(exported).not.toContain("launch codes");
    const tool = one(spans(), "execute_tool echo");
    expect(tool.attributes["gen_ai.tool.call.arguments"]).toBe(
      '{"text":"mail [REDACTED_EMAIL] the [CLASSIFIED], key [REDACTED_KEY]"}',
    );
    expect(tool.attributes["gen_ai.tool.call.result"]).toBe(
      "echo:mail [REDACTED_EMAIL] the [CLASSIFIED], key [REDACTED_KEY]",
    );
    const [firstChat] = spans().filter((s) => s.name === "chat gpt-4o-mini");
    expect(JSON.parse(String(firstChat?.attributes["gen_ai.input.messages"]))).toEqual([
      {
        role: "user",
        parts: [{ type: "text", content: "mail [REDACTED_EMAIL] the [CLASSIFIED], key [REDACTED_KEY]" }],
      },
    ]);
    expect(new Set(fields)).toEqual(
      new Set([
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.tool.call.arguments",
        "gen_ai.tool.call.result",
      ]),
    );
  });

  it("a redactor that throws yields a placeholder, never the raw text, and is reported", async () => {
    const { provider, spans } = memoryTracing();
    const calls: string[] = [];
    const warden = new Warden({
      tracerProvider: provider,
      captureContent: true,
      redact: (_t, field) => {
        calls.push(field);
        throw new Error("regex bug");
      },
      onError: () => undefined,
    });
    await echoAgent(warden).invoke(user("private"));
    const content = new Set([
      "gen_ai.input.messages",
      "gen_ai.output.messages",
      "gen_ai.tool.call.arguments",
      "gen_ai.tool.call.result",
    ]);
    const values = spans()
      .flatMap((s) => Object.entries(s.attributes))
      .filter(([k]) => content.has(k));
    expect(values.length).toBe(6);
    expect(values.every(([, v]) => v === "[REDACTION_FAILED]")).toBe(true);
    expect(calls).toHaveLength(6);
    expect(warden.stats().telemetryErrors).toEqual({ redact: 6 });
  });

  it("redactWith adds user patterns to the defaults", () => {
    const r = redactWith([/acct-\d+/]);
    expect(r("acct-991 paid 4111 1111 1111 1111 to eve@x.io", "gen_ai.tool.call.result")).toBe(
      "[REDACTED] paid [REDACTED_NUMBER] to [REDACTED_EMAIL]",
    );
  });
});

describe("lifecycle", () => {
  it("flush() exports the spans a BatchSpanProcessor still holds, for short-lived processes", async () => {
    useContextManager();
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 60_000 })],
    });
    const warden = new Warden({ tracerProvider: provider });
    await echoAgent(warden).invoke(user("x"));
    expect(exporter.getFinishedSpans()).toHaveLength(0);
    await warden.flush();
    expect(exporter.getFinishedSpans()).toHaveLength(7);
    await warden.shutdown();
    await warden.shutdown();
  });

  it("a wrapped graph outside any task costs nothing extra and leaves no state: nodes run straight through", async () => {
    const { provider, spans } = memoryTracing();
    const warden = new Warden({ tracerProvider: provider });
    const graph = new StateGraph(Annotation.Root({ x: Annotation<number>() }))
      .addNode("inc", (s) => ({ x: s.x + 1 }))
      .addEdge(START, "inc")
      .compile();
    const wrapped = wrapGraph(graph, { warden, name: "counter" });
    // Calling a node's runnable directly (not through the graph) opens no step.
    const node = (wrapped.nodes.inc as unknown as { bound: { invoke(x: unknown): Promise<unknown> } }).bound;
    expect(await node.invoke({ x: 1 })).toEqual({ x: 2 });
    expect(spans()).toHaveLength(0);
    expect(tree(spans())).toEqual([]);
    expect((await wrapped.invoke({ x: 1 })).x).toBe(2);
    expect(tree(spans())).toEqual([n("invoke_workflow counter", [n("inc")])]);
  });
});
