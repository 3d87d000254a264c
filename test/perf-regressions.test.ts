/*
 * Behaviour the performance work of issue 20 must not change, found by reviewing it (each test
 * failed on the first version of a cut and passes on the previous release): a message or a model
 * setting changed in place between two calls, and a bound tool list with no named tool.
 */
import { HumanMessage } from "@langchain/core/messages";
import { Annotation, START, StateGraph } from "@langchain/langgraph";
import { describe, expect, it } from "vitest";
import { wrapGraph } from "../adapters/langgraph/index.js";
import { ScriptedChatModel } from "../adapters/testing/index.js";
import type { Step } from "../src/index.js";
import { Warden } from "../src/index.js";

/** A one-node graph whose node runs `body`. */
function oneNode(body: () => Promise<void>) {
  const S = Annotation.Root({ out: Annotation<string>() });
  return new StateGraph(S)
    .addNode("ask", async () => {
      await body();
      return { out: "done" };
    })
    .addEdge(START, "ask")
    .compile({ name: "asker" });
}

/** Every chat step of the warden, as it ended. */
function chats(warden: Warden): Step[] {
  const out: Step[] = [];
  warden.hub.add({
    name: "probe",
    onStepEnd: (s) => {
      if (s.kind === "chat") out.push(s);
    },
  });
  return out;
}

describe("model settings read once per model instance (chat.ts fieldsOf)", () => {
  it("a setting changed on the model after its first call is recorded at the next call", async () => {
    const warden = new Warden({ tracing: false });
    const ended = chats(warden);
    const model = new ScriptedChatModel({ script: [{ content: "a" }] }) as ScriptedChatModel & {
      temperature?: number;
    };
    model.temperature = 0.2;
    const graph = oneNode(async () => {
      await model.invoke("first");
      model.temperature = 0.9;
      await model.invoke("second");
    });
    await wrapGraph(graph, { warden }).invoke({});
    expect(ended.map((s) => s.chat?.request?.temperature)).toEqual([0.2, 0.9]);
  });
});

describe("captured conversations cached per message object (warden.captureListOf)", () => {
  it("a message changed in place between two calls is recorded as the model got it", async () => {
    const warden = new Warden({ tracing: false, captureContent: true });
    const ended = chats(warden);
    const model = new ScriptedChatModel({ script: [{ content: "ok" }] });
    const graph = oneNode(async () => {
      const m = new HumanMessage("first version");
      await model.invoke([m]);
      m.content = "second version";
      await model.invoke([m]);
    });
    await wrapGraph(graph, { warden }).invoke({});
    expect(ended).toHaveLength(2);
    expect(ended[1]?.chat?.input).toContain("second version");
  });
});

describe("the cost guard's input estimate memo (estimateInputTokens, prefix identity)", () => {
  it("a message grown in place is measured again: the token limit trips before the call", async () => {
    const warden = new Warden({ tracing: false, limits: { maxTokens: 2_000 }, defaultMaxOutputTokens: 10 });
    const model = new ScriptedChatModel({ script: [{ content: "ok", usage: { input: 1, output: 1 } }] });
    const graph = oneNode(async () => {
      const m = new HumanMessage("short");
      await model.invoke([m]);
      m.content = "x".repeat(40_000); // ~10,000 tokens: over the 2,000 token limit
      await model.invoke([m]);
    });
    await expect(wrapGraph(graph, { warden }).invoke({})).rejects.toThrow(/token/i);
    expect(model.calls).toBe(1);
  });
});

describe("bound tools captured through captureOf (instrument.ts captureRequest)", () => {
  it("a custom redactor is not given tool definitions when no bound tool has a name", async () => {
    const fields: Array<[string, string]> = [];
    const warden = new Warden({
      tracing: false,
      captureContent: true,
      redact: (text, field) => {
        fields.push([field, text]);
        return text === "" ? "[empty]" : text;
      },
    });
    const ended = chats(warden);
    const model = new ScriptedChatModel({ script: [{ content: "ok" }] });
    const graph = oneNode(async () => {
      await model.invoke("hi", { tools: [{ type: "function" }] } as never);
    });
    await wrapGraph(graph, { warden }).invoke({});
    expect(fields.filter(([f]) => f === "gen_ai.tool.definitions")).toEqual([]);
    expect(ended[0]?.chat?.toolDefinitions).toBeUndefined();
  });
});

describe("guards hold callback events only where a handler could see them (held.ts)", () => {
  it("with input and output guards and no callback handler anywhere, model and tool calls set up no callbacks, as bare", async () => {
    const { CallbackManager } = await import("@langchain/core/callbacks/manager");
    const { createReactAgent } = await import("@langchain/langgraph/prebuilt");
    const { searchTool } = await import("./support/agents.js");
    const agent = () =>
      createReactAgent({
        llm: new ScriptedChatModel({
          script: [{ toolCalls: [{ name: "search", args: { q: "x" }, id: "c1" }] }, { content: "done" }],
        }),
        tools: [searchTool()],
      });
    const passes = { name: "passes", evaluate: () => true };
    // A fresh agent each run: the scripted model's script is used up by one.
    const guarded = () =>
      wrapGraph(agent(), {
        warden: new Warden({ tracing: false }),
        guards: {
          input: [{ evaluators: [passes], action: "block" }],
          output: [{ evaluators: [passes], action: "redact" }],
        },
      });
    const starts = { model: 0, tool: 0 };
    const model = CallbackManager.prototype.handleChatModelStart;
    const tool = CallbackManager.prototype.handleToolStart;
    CallbackManager.prototype.handleChatModelStart = function (...args) {
      starts.model++;
      return model.apply(this, args);
    };
    CallbackManager.prototype.handleToolStart = function (...args) {
      starts.tool++;
      return tool.apply(this, args);
    };
    try {
      const input = { messages: [{ role: "user", content: "go" }] };
      const bare = await agent().invoke(input);
      expect(starts).toEqual({ model: 0, tool: 0 });
      const out = await guarded().invoke(input);
      expect(out.messages.map((m) => m.content)).toEqual(bare.messages.map((m) => m.content));
      // Nobody listens: nothing to hold, and no callback manager made for the holding.
      expect(starts).toEqual({ model: 0, tool: 0 });
      // A stream of messages listens: the calls run with callbacks (held), as many as bare.
      for await (const _ of await agent().stream(input, { streamMode: "messages" })) void _;
      const bareStarts = { ...starts };
      expect(bareStarts.model).toBeGreaterThan(0);
      for await (const _ of await guarded().stream(input, { streamMode: "messages" })) void _;
      expect(starts).toEqual({ model: 2 * bareStarts.model, tool: 2 * bareStarts.tool });
    } finally {
      CallbackManager.prototype.handleChatModelStart = model;
      CallbackManager.prototype.handleToolStart = tool;
    }
  });
});
