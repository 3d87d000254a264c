import type { AIMessage, BaseMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { MemorySaver } from "@langchain/langgraph";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { createAgent } from "langchain";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { wrapGraph } from "../adapters/langgraph/index.js";
import { ScriptedChatModel } from "../adapters/testing/index.js";
import { type BreakerTripError, isBreakerTrip, Warden } from "../src/index.js";
import { memoryTracing, n, tree } from "./support/otel.js";

const user = (content: string) => ({ messages: [{ role: "user", content }] });

function searchTool() {
  return tool(async ({ q }: { q: string }) => `results for ${q}`, {
    name: "search",
    description: "Searches the web.",
    schema: z.object({ q: z.string() }),
  });
}

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
