import type { BaseMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { type Attributes, type Context, type Link, type SpanContext, type SpanKind, trace } from "@opentelemetry/api";
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from "@opentelemetry/sdk-logs";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  InMemorySpanExporter,
  ParentBasedSampler,
  type Sampler,
  SamplingDecision,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { wrapGraph } from "../adapters/langgraph/index.js";
import { type Script, ScriptedChatModel } from "../adapters/testing/index.js";
import { type Evaluator, lastMessageText, Warden } from "../src/index.js";
import { scriptedAgent, TEST_PRICES, user } from "./support/agents.js";
import { n, tree, useContextManager } from "./support/otel.js";

/** Two search turns and an answer: 11 spans when sampled (worked out below). */
const TURNS = [
  { toolCalls: [{ name: "search", args: { q: "a" } }], usage: { input: 100, output: 10 } },
  { toolCalls: [{ name: "search", args: { q: "b" } }], usage: { input: 200, output: 10 } },
  { content: "done", usage: { input: 300, output: 10 } },
];

/**
 * The sampled run's span tree, by hand: the agent span; per turn an `agent` node with its model
 * call, then a `tools` node with its tool call; the answering turn's `agent` node and model call.
 */
const SAMPLED_TREE = [
  n("invoke_agent assistant", [
    n("agent", [n("chat test-model")]),
    n("tools", [n("execute_tool search")]),
    n("agent", [n("chat test-model")]),
    n("tools", [n("execute_tool search")]),
    n("agent", [n("chat test-model")]),
  ]),
];

/** A sampler that records the name of every span it is asked about, then defers to `inner`. */
class Asked implements Sampler {
  readonly names: string[] = [];
  constructor(private readonly inner: Sampler) {}
  shouldSample(ctx: Context, traceId: string, name: string, kind: SpanKind, attributes: Attributes, links: Link[]) {
    this.names.push(name);
    return this.inner.shouldSample(ctx, traceId, name, kind, attributes, links);
  }
  toString() {
    return `Asked(${this.inner})`;
  }
}

/** A root sampler that keeps the roots at the given positions (1-based) and drops the others. */
class Roots implements Sampler {
  private seen = 0;
  constructor(private readonly keep: number[]) {}
  shouldSample() {
    this.seen++;
    return {
      decision: this.keep.includes(this.seen) ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.NOT_RECORD,
    };
  }
  toString() {
    return "Roots";
  }
}

/** A sampler that keeps model-call spans only, whatever their parent (not parent-based). */
class ChatsOnly implements Sampler {
  shouldSample(_ctx: Context, _traceId: string, name: string) {
    return { decision: name.startsWith("chat ") ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.NOT_RECORD };
  }
  toString() {
    return "ChatsOnly";
  }
}

function tracing(sampler: Sampler) {
  useContextManager();
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ sampler, spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return { provider, spans: () => exporter.getFinishedSpans() };
}

/** A search tool that notes the span context it runs in and whether a span started in it records. */
function observingSearch(seen: Array<{ context: SpanContext | undefined; recording: boolean }>, tracer: () => unknown) {
  return tool(
    async ({ q }: { q: string }) => {
      const inner = (tracer() as ReturnType<BasicTracerProvider["getTracer"]>).startSpan("user work");
      seen.push({ context: trace.getActiveSpan()?.spanContext(), recording: inner.isRecording() });
      inner.end();
      return `results for ${q}`;
    },
    { name: "search", description: "Searches the web.", schema: z.object({ q: z.string() }) },
  );
}

describe("sampled-out traces", () => {
  it("a task whose trace the sampler drops asks it about two spans, not eleven, and its tools still run in the trace", async () => {
    const sampler = new Asked(new ParentBasedSampler({ root: new AlwaysOffSampler() }));
    const { provider, spans } = tracing(sampler);
    const warden = new Warden({ tracerProvider: provider, prices: TEST_PRICES });
    const seen: Array<{ context: SpanContext | undefined; recording: boolean }> = [];
    const search = observingSearch(seen, () => provider.getTracer("user"));
    const result = await scriptedAgent(warden, TURNS, [search]).invoke(user("go"));
    expect(String(result.messages.at(-1)?.content)).toBe("done");
    // The agent span (dropped), then its first node (dropped under a dropped parent): the rest of
    // the task starts no spans. Without the skip the sampler is asked about all 11 steps.
    expect(sampler.names).toEqual(["invoke_agent assistant", "agent", "user work", "user work"]);
    expect(spans()).toEqual([]);
    // Both tool calls ran in the task's trace, unsampled, and a span started there is not recorded.
    expect(seen).toHaveLength(2);
    const [first, second] = seen;
    expect(first?.context?.traceFlags).toBe(0);
    expect(first?.context?.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(second?.context?.traceId).toBe(first?.context?.traceId);
    expect(seen.map((s) => s.recording)).toEqual([false, false]);
    // The ledger is whole: sampling is about spans only.
    expect(warden.metrics?.snapshot().cumulative.totals.tasks).toBe(1);
    expect(warden.metrics?.snapshot().cumulative.totals.costUsd).toBeCloseTo((600 + 30 * 2) / 1e6, 12);
  });

  it("sampled tasks beside dropped ones keep their whole tree", async () => {
    const sampler = new Asked(new ParentBasedSampler({ root: new Roots([1, 3]) }));
    const { provider, spans } = tracing(sampler);
    const warden = new Warden({ tracerProvider: provider, prices: TEST_PRICES });
    for (const q of ["one", "two", "three"]) {
      const search = tool(async ({ q }: { q: string }) => `results for ${q}`, {
        name: "search",
        description: "Searches the web.",
        schema: z.object({ q: z.string() }),
      });
      await scriptedAgent(warden, TURNS, [search]).invoke(user(q));
    }
    expect(tree(spans())).toEqual([...SAMPLED_TREE, ...SAMPLED_TREE]);
    // 11 spans for each sampled task, 2 for the dropped one.
    expect(sampler.names).toHaveLength(11 + 2 + 11);
    const traces = new Set(spans().map((s) => s.spanContext().traceId));
    expect(traces.size).toBe(2);
  });

  it('`sampledOutSpans: "create"` starts every span, for a sampler that keeps spans under dropped parents', async () => {
    const skipping = tracing(new ChatsOnly());
    const skip = new Warden({ tracerProvider: skipping.provider, prices: TEST_PRICES });
    const search = () =>
      tool(async ({ q }: { q: string }) => `results for ${q}`, {
        name: "search",
        description: "Searches the web.",
        schema: z.object({ q: z.string() }),
      });
    await scriptedAgent(skip, TURNS, [search()]).invoke(user("go"));
    // The default stops at two dropped levels: the model calls below them are never offered.
    expect(skipping.spans()).toEqual([]);

    const creating = tracing(new ChatsOnly());
    const create = new Warden({ tracerProvider: creating.provider, prices: TEST_PRICES, sampledOutSpans: "create" });
    await scriptedAgent(create, TURNS, [search()]).invoke(user("go"));
    expect(creating.spans().map((s) => s.name)).toEqual(["chat test-model", "chat test-model", "chat test-model"]);
  });

  it("an evaluation result is still logged when its trace is sampled out", async () => {
    const { provider } = tracing(new ParentBasedSampler({ root: new AlwaysOffSampler() }));
    const logs = new InMemoryLogRecordExporter();
    const loggerProvider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter: logs })] });
    const warden = new Warden({ tracerProvider: provider, loggerProvider, prices: TEST_PRICES });
    const search = tool(async ({ q }: { q: string }) => `results for ${q}`, {
      name: "search",
      description: "Searches the web.",
      schema: z.object({ q: z.string() }),
    });
    await scriptedAgent(warden, TURNS, [search], {
      finalEvals: [{ name: "answered", evaluate: () => ({ pass: true, score: 1 }) }],
    }).invoke(user("go"));
    await loggerProvider.forceFlush();
    const records = logs.getFinishedLogRecords();
    expect(records.map((r) => [r.eventName, r.attributes["gen_ai.evaluation.name"]])).toEqual([
      ["gen_ai.evaluation.result", "answered"],
    ]);
    expect(records[0]?.spanContext?.traceFlags).toBe(0);
  });

  it("an always-on sampler sees every span, as before", async () => {
    const sampler = new Asked(new AlwaysOnSampler());
    const { provider, spans } = tracing(sampler);
    const warden = new Warden({ tracerProvider: provider, prices: TEST_PRICES });
    const search = tool(async ({ q }: { q: string }) => `results for ${q}`, {
      name: "search",
      description: "Searches the web.",
      schema: z.object({ q: z.string() }),
    });
    await scriptedAgent(warden, TURNS, [search]).invoke(user("go"));
    expect(tree(spans())).toEqual(SAMPLED_TREE);
    expect(sampler.names).toHaveLength(11);
  });

  it("rejects an unknown sampledOutSpans at construction, naming the option", () => {
    expect(() => new Warden({ sampledOutSpans: "drop" as never })).toThrow(/sampledOutSpans/);
  });
});

const grounded: Evaluator = {
  name: "grounded",
  evaluate(state) {
    return lastMessageText(state).includes("$9.9M") ? { pass: false, score: 0, reason: "ungrounded" } : true;
  },
};

describe('evaluation events under `sampledOutSpans: "create"`', () => {
  it("keeps the guard's evaluation event on the evaluated (kept) chat span, as before the change", async () => {
    useContextManager();
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      sampler: new ChatsOnly(),
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    const warden = new Warden({ tracerProvider: provider, prices: TEST_PRICES, sampledOutSpans: "create" });
    const report = tool(async () => "Revenue 2025: $4.2M", {
      name: "report",
      description: "The report tool.",
      schema: z.object({ q: z.string() }),
    });
    const turns = [
      { toolCalls: [{ name: "report", args: { q: "revenue" } }] },
      { content: "Revenue in 2025 was $9.9M." },
    ];
    const script: Script = (_m: BaseMessage[], call) => turns[Math.min(call, turns.length - 1)]!;
    const llm = new ScriptedChatModel({ script, model: "test-model" });
    await wrapGraph(createReactAgent({ llm, tools: [report] }), {
      warden,
      guards: { output: [{ evaluators: [grounded], action: "block" }] },
    }).invoke(user("What was revenue in 2025?"));
    const chats = exporter.getFinishedSpans().filter((s) => s.name === "chat test-model");
    expect(chats).toHaveLength(2);
    const events = chats.flatMap((s) => s.events.filter((e) => e.name === "gen_ai.evaluation.result"));
    expect(events.map((e) => e.attributes?.["gen_ai.evaluation.name"])).toEqual(["grounded"]);
  });
});
