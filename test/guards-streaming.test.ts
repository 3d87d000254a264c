import { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { BaseMessage } from "@langchain/core/messages";
import { JsonOutputKeyToolsParser } from "@langchain/core/output_parsers/openai_tools";
import { ChatGenerationChunk } from "@langchain/core/outputs";
import { tool } from "@langchain/core/tools";
import { Annotation, END, MessagesAnnotation, START, StateGraph } from "@langchain/langgraph";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { createAgent, toolStrategy } from "langchain";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { wrapGraph } from "../adapters/langgraph/index.js";
import { ScriptedChatModel, type ScriptedTurn } from "../adapters/testing/index.js";
import {
  DEFAULT_REFUSAL,
  type Evaluator,
  type GuardsConfig,
  lastMessageText,
  type TaskSummary,
  Warden,
} from "../src/index.js";
import { user } from "./support/agents.js";

/*
 * Output guards and what reaches the caller while the graph streams (`streamMode: "messages"`,
 * `streamEvents`, callback handlers): only what the guard allows. And structured answers (a tool
 * call that is the answer) are final answers the output guards check, arguments included.
 */

const SECRET = "the launch code is 0000-TOPSECRET";
const KEY = "sk-live-AbCdEf0123456789";

/** Fails on the launch code: with `block`, the answer is replaced by the refusal. */
const noSecret: Evaluator = {
  name: "no_secret",
  evaluate: (state) => (lastMessageText(state).includes("TOPSECRET") ? { pass: false, reason: "leaks" } : true),
};

/** Finds live API keys in the answer's text: fails with the keys as matches, so `redact` replaces just them. */
const noCredentials: Evaluator = {
  name: "no_credentials",
  evaluate(state) {
    const matches = lastMessageText(state).match(/sk-live-[A-Za-z0-9]+/g) ?? [];
    return matches.length === 0 ? true : { pass: false, reason: "a live API key", matches };
  },
};

/** Fails on a key anywhere in the answer, naming no match: `redact` withholds the whole text. */
const noKeyAnywhere: Evaluator = {
  name: "no_key",
  evaluate: (state) => (JSON.stringify(state).includes("sk-live-") ? { pass: false, reason: "a key" } : true),
};

const builders = {
  createReactAgent: (llm: ScriptedChatModel, tools: ReturnType<typeof tool>[] = []) =>
    createReactAgent({ llm, tools, name: "a" }),
  createAgent: (llm: ScriptedChatModel, tools: ReturnType<typeof tool>[] = []) =>
    createAgent({ model: llm, tools, name: "a" }),
};

function scripted(turns: ScriptedTurn[]) {
  return new ScriptedChatModel({ model: "gpt-4o-mini", script: turns });
}

/** A model that cannot stream: LangChain's base `_streamResponseChunks` (the messages mode then emits the message at its end). */
function nonStreaming(turns: ScriptedTurn[]) {
  const llm = scripted(turns);
  (llm as unknown as { _streamResponseChunks: unknown })._streamResponseChunks =
    BaseChatModel.prototype._streamResponseChunks;
  return llm;
}

type Chunk = [{ content: unknown; tool_call_chunks?: Array<{ args?: string }> }, Record<string, unknown>];

async function messagesOf(agent: { stream(input: unknown, options: unknown): Promise<AsyncIterable<unknown>> }) {
  const chunks: Chunk[] = [];
  for await (const c of await agent.stream(user("hi"), { streamMode: "messages" })) chunks.push(c as Chunk);
  return chunks;
}

async function eventsOf(agent: { streamEvents(input: unknown, options: unknown): AsyncIterable<unknown> }) {
  const events: Array<{ event: string; data: { chunk?: { content: unknown }; output?: { content: unknown } } }> = [];
  for await (const e of agent.streamEvents(user("hi"), { version: "v2" })) events.push(e as (typeof events)[number]);
  return events;
}

function summaries(warden: Warden): TaskSummary[] {
  const out: TaskSummary[] = [];
  warden.onTaskEnd((run) => {
    out.push(run.summary());
  });
  return out;
}

describe.each(Object.entries(builders))("output guards while %s is streamed", (_, build) => {
  const blocking: GuardsConfig = { output: [{ evaluators: [noSecret], action: "block", refusal: "REFUSED" }] };

  it("block: stream(messages) carries the refusal only, as one chunk (the model's tokens never)", async () => {
    const agent = wrapGraph(build(scripted([{ content: SECRET }])), {
      warden: new Warden({ tracing: false }),
      guards: blocking,
    });
    const chunks = await messagesOf(agent);
    expect(chunks.map(([m]) => m.content)).toEqual(["REFUSED"]);
  });

  it("block: streamEvents' chat model stream and end events carry the refusal only", async () => {
    const agent = wrapGraph(build(scripted([{ content: SECRET }])), {
      warden: new Warden({ tracing: false }),
      guards: blocking,
    });
    const events = await eventsOf(agent);
    expect(events.filter((e) => e.event === "on_chat_model_stream").map((e) => e.data.chunk?.content)).toEqual([
      "REFUSED",
    ]);
    expect(events.filter((e) => e.event === "on_chat_model_end").map((e) => e.data.output?.content)).toEqual([
      "REFUSED",
    ]);
    expect(JSON.stringify(events)).not.toContain("TOPSECRET");
  });

  it("block, a model that cannot stream: stream(messages) carries the refusal once", async () => {
    const agent = wrapGraph(build(nonStreaming([{ content: SECRET }])), {
      warden: new Warden({ tracing: false }),
      guards: blocking,
    });
    const chunks = await messagesOf(agent);
    expect(chunks.map(([m]) => m.content)).toEqual(["REFUSED"]);
  });

  it("redact: stream(messages) and streamEvents carry the redacted answer, never the key", async () => {
    const guards: GuardsConfig = { output: [{ evaluators: [noCredentials], action: "redact" }] };
    const make = () =>
      wrapGraph(build(scripted([{ content: `Your key is ${KEY} ok` }])), {
        warden: new Warden({ tracing: false }),
        guards,
      });
    const chunks = await messagesOf(make());
    expect(chunks.map(([m]) => m.content)).toEqual(["Your key is [REDACTED:no_credentials] ok"]);
    const events = await eventsOf(make());
    expect(events.filter((e) => e.event === "on_chat_model_end").map((e) => e.data.output?.content)).toEqual([
      "Your key is [REDACTED:no_credentials] ok",
    ]);
    expect(JSON.stringify(events)).not.toContain(KEY);
  });

  it("an answer the guard lets pass is streamed as the model streamed it, token by token", async () => {
    const agent = wrapGraph(build(scripted([{ content: "All is clear." }])), {
      warden: new Warden({ tracing: false }),
      guards: blocking,
    });
    const chunks = await messagesOf(agent);
    expect(chunks.map(([m]) => m.content)).toEqual(["All ", "is ", "clear."]);
  });

  it("callback handlers given to invoke see the refusal's token and end, not the model's", async () => {
    const agent = wrapGraph(build(scripted([{ content: SECRET }])), {
      warden: new Warden({ tracing: false }),
      guards: blocking,
    });
    const tokens: string[] = [];
    const ends: unknown[] = [];
    await agent.invoke(user("hi"), {
      callbacks: [
        {
          lc_prefer_streaming: true,
          handleLLMNewToken: (token: string) => {
            tokens.push(token);
          },
          handleLLMEnd: (output: { generations: Array<Array<{ message: { content: unknown } }>> }) => {
            ends.push(output.generations[0]?.[0]?.message.content);
          },
        } as never,
      ],
    });
    expect(tokens).toEqual(["REFUSED"]);
    expect(ends).toEqual(["REFUSED"]);
  });

  it("a handler the model was made with (its own callbacks, no others anywhere) sees the refusal's end, not the model's", async () => {
    const ends: unknown[] = [];
    const llm = new ScriptedChatModel({
      model: "gpt-4o-mini",
      script: [{ content: SECRET }],
      callbacks: [
        {
          handleLLMEnd: (output: { generations: Array<Array<{ message: { content: unknown } }>> }) => {
            ends.push(output.generations[0]?.[0]?.message.content);
          },
        } as never,
      ],
    });
    const agent = wrapGraph(build(llm), { warden: new Warden({ tracing: false }), guards: blocking });
    await agent.invoke(user("hi"));
    expect(ends).toEqual(["REFUSED"]);
  });

  it("a model call that fails after streaming part of its answer: the part never reaches the handlers", async () => {
    const llm = scripted([{ content: SECRET }]);
    (llm as unknown as { _streamResponseChunks: unknown })._streamResponseChunks = async function* (
      _m: BaseMessage[],
      _o: unknown,
      runManager?: { handleLLMNewToken(t: string): Promise<void> },
    ) {
      yield new ChatGenerationChunk({
        text: "0000-TOP",
        message: new (await import("@langchain/core/messages")).AIMessageChunk("0000-TOP"),
      });
      await runManager?.handleLLMNewToken("0000-TOP");
      throw new Error("connection reset");
    };
    const agent = wrapGraph(build(llm), { warden: new Warden({ tracing: false }), guards: blocking });
    const tokens: string[] = [];
    const errors: string[] = [];
    await expect(
      agent.invoke(user("hi"), {
        callbacks: [
          {
            lc_prefer_streaming: true,
            handleLLMNewToken: (token: string) => {
              tokens.push(token);
            },
            handleLLMError: (error: Error) => {
              errors.push(error.message);
            },
          } as never,
        ],
      }),
    ).rejects.toThrow("connection reset");
    expect(tokens).toEqual([]);
    expect(errors).toEqual(["connection reset"]);
  });

  it("without output guards nothing changes: stream(messages) is the bare graph's, token by token", async () => {
    const bare = await messagesOf(build(scripted([{ content: SECRET }])));
    const agent = wrapGraph(build(scripted([{ content: SECRET }])), {
      warden: new Warden({ tracing: false }),
      guards: { input: [{ evaluators: [noCredentials], action: "redact" }] },
    });
    const chunks = await messagesOf(agent);
    expect(chunks.map(([m]) => m.content)).toEqual(["the ", "launch ", "code ", "is ", "0000-TOPSECRET"]);
    expect(chunks.map(([m]) => m.content)).toEqual(bare.map(([m]) => m.content));
  });
});

describe("output guards in a workflow's own node", () => {
  it("a model invoked without its config (the ambient config's callbacks): the stream carries the refusal only", async () => {
    const llm = scripted([{ content: SECRET }]);
    const graph = new StateGraph(MessagesAnnotation)
      .addNode("answer", async (s) => ({ messages: [await llm.invoke(s.messages)] }))
      .addEdge(START, "answer")
      .addEdge("answer", END)
      .compile();
    const agent = wrapGraph(graph, {
      warden: new Warden({ tracing: false }),
      guards: { output: [{ evaluators: [noSecret], action: "block", refusal: "REFUSED" }] },
    });
    const chunks = await messagesOf(agent);
    expect(chunks.map(([m]) => m.content)).toEqual(["REFUSED"]);
  });
});

describe("output guards and LangGraph's stream protocol (version v3)", () => {
  async function v3(agent: { stream(input: unknown, options: unknown): Promise<AsyncIterable<unknown>> }) {
    const events: Array<{ event: string; delta?: { text?: string } }> = [];
    for await (const c of await agent.stream(user("hi"), { streamMode: "messages", version: "v3" })) {
      const e = (c as unknown[])[0] as (typeof events)[number];
      if (e && typeof e.event === "string") events.push(e);
    }
    return events;
  }

  it("block: the protocol's events carry the refusal, not the model's deltas", async () => {
    const agent = wrapGraph(createReactAgent({ llm: scripted([{ content: SECRET }]), tools: [], name: "a" }), {
      warden: new Warden({ tracing: false }),
      guards: { output: [{ evaluators: [noSecret], action: "block", refusal: "REFUSED" }] },
    });
    const events = await v3(agent);
    const text = events
      .filter((e) => e.event === "content-block-delta")
      .map((e) => e.delta?.text ?? "")
      .join("");
    expect(text).toBe("REFUSED");
    expect(JSON.stringify(events)).not.toContain("TOPSECRET");
  });

  it("an answer that passes keeps its deltas", async () => {
    const agent = wrapGraph(createReactAgent({ llm: scripted([{ content: "All is clear." }]), tools: [], name: "a" }), {
      warden: new Warden({ tracing: false }),
      guards: { output: [{ evaluators: [noSecret], action: "block", refusal: "REFUSED" }] },
    });
    const deltas = (await v3(agent)).filter((e) => e.event === "content-block-delta").map((e) => e.delta?.text);
    expect(deltas).toEqual(["All ", "is ", "clear."]);
  });
});

describe("structured answers and output guards", () => {
  const Answer = z.object({ answer: z.string() }).meta({ title: "Answer" });
  const structuredTurn: ScriptedTurn = { toolCalls: [{ name: "Answer", args: { answer: `your key is ${KEY}` } }] };

  function responseFormatAgent(guards: GuardsConfig, warden: Warden) {
    const llm = scripted([structuredTurn]);
    return wrapGraph(createAgent({ model: llm, tools: [], responseFormat: toolStrategy(Answer), name: "a" }), {
      warden,
      guards,
    });
  }

  it("createAgent responseFormat (toolStrategy), default finalOnly: redact rewrites the structured response", async () => {
    const warden = new Warden({ tracing: false });
    const done = summaries(warden);
    const out = (await responseFormatAgent(
      { output: [{ evaluators: [noCredentials], action: "redact" }] },
      warden,
    ).invoke(user("key?"))) as { structuredResponse?: unknown; messages: unknown[] };
    expect(out.structuredResponse).toEqual({ answer: "your key is [REDACTED:no_credentials]" });
    expect(JSON.stringify(out.messages)).not.toContain(KEY);
    expect(done[0]?.guards).toEqual({ "output.redact": 1 });
    expect(done[0]?.outcome).toBe("success");
  });

  it("createAgent responseFormat (toolStrategy), default finalOnly: block answers with the refusal", async () => {
    const warden = new Warden({ tracing: false });
    const done = summaries(warden);
    const out = (await responseFormatAgent(
      { output: [{ evaluators: [noKeyAnywhere], action: "block" }] },
      warden,
    ).invoke(user("key?"))) as { structuredResponse?: unknown; messages: Array<{ content: unknown }> };
    expect(out.structuredResponse).toBeUndefined();
    expect(out.messages.at(-1)?.content).toBe(DEFAULT_REFUSAL);
    expect(JSON.stringify(out.messages)).not.toContain(KEY);
    expect(done[0]?.outcome).toBe("failure");
    expect(done[0]?.error?.type).toBe("guard_blocked");
  });

  it("a redaction that names no match withholds each string of the structured answer", async () => {
    const out = (await responseFormatAgent(
      { output: [{ evaluators: [noKeyAnywhere], action: "redact" }] },
      new Warden({ tracing: false }),
    ).invoke(user("key?"))) as { structuredResponse?: unknown; messages: unknown[] };
    expect(out.structuredResponse).toEqual({ answer: "[REDACTED:no_key]" });
    expect(JSON.stringify(out.messages)).not.toContain(KEY);
  });

  it("the structured answer streamed: stream(messages) carries the redacted arguments, never the key", async () => {
    const agent = responseFormatAgent(
      { output: [{ evaluators: [noCredentials], action: "redact" }] },
      new Warden({ tracing: false }),
    );
    const chunks = await messagesOf(agent);
    expect(JSON.stringify(chunks)).not.toContain(KEY);
    const args = chunks.flatMap(([m]) => (m.tool_call_chunks ?? []).map((c) => c.args));
    expect(args).toEqual([JSON.stringify({ answer: "your key is [REDACTED:no_credentials]" })]);
  });

  it("bindTools + JsonOutputKeyToolsParser in a workflow node: the parsed result is the redacted one", async () => {
    const State = Annotation.Root({ q: Annotation<string>(), result: Annotation<unknown>() });
    const llm = scripted([{ toolCalls: [{ name: "extract", args: { answer: `your key is ${KEY}`, n: 3 } }] }]);
    // Bound as a provider's model is; the scripted model ignores what is bound.
    const structured = (llm as unknown as { bindTools(tools: unknown[]): ScriptedChatModel })
      .bindTools([
        {
          type: "function",
          function: { name: "extract", description: "d", parameters: { type: "object", properties: {} } },
        },
      ])
      .pipe(new JsonOutputKeyToolsParser({ keyName: "extract", returnSingle: true }));
    const graph = new StateGraph(State)
      .addNode("answer", async (s) => ({ result: await structured.invoke([{ role: "user", content: s.q }]) }))
      .addEdge(START, "answer")
      .addEdge("answer", END)
      .compile();
    const warden = new Warden({ tracing: false });
    const done = summaries(warden);
    const out = (await wrapGraph(graph, {
      warden,
      guards: { output: [{ evaluators: [noCredentials], action: "redact" }] },
    }).invoke({ q: "what is my key?" })) as { result: unknown };
    expect(out.result).toEqual({ answer: "your key is [REDACTED:no_credentials]", n: 3 });
    expect(done[0]?.steps.filter((s) => s.k === "guard").map((s) => s.gd)).toEqual([
      { d: "redact", by: "no_credentials" },
    ]);
  });

  it("finalOnly false: a tool call's arguments are checked and redacted before the tool runs", async () => {
    const seen: unknown[] = [];
    const send = tool(
      async (args: { body: string }) => {
        seen.push(args);
        return "sent";
      },
      { name: "send", description: "sends", schema: z.object({ body: z.string() }) },
    );
    const llm = scripted([{ toolCalls: [{ name: "send", args: { body: `use ${KEY}` } }] }, { content: "done" }]);
    const warden = new Warden({ tracing: false });
    const done = summaries(warden);
    await wrapGraph(createReactAgent({ llm, tools: [send], name: "a" }), {
      warden,
      guards: { output: [{ evaluators: [noCredentials], action: "redact", finalOnly: false }] },
    }).invoke(user("send it"));
    expect(seen).toEqual([{ body: "use [REDACTED:no_credentials]" }]);
    expect(done[0]?.steps.filter((s) => s.k === "guard").map((s) => s.gd)).toEqual([
      { d: "redact", by: "no_credentials" },
      { d: "continue" },
    ]);
  });

  it("default finalOnly: a call to a tool the agent runs is not an answer, its arguments are left to tool guards", async () => {
    const seen: unknown[] = [];
    const send = tool(
      async (args: { body: string }) => {
        seen.push(args);
        return "sent";
      },
      { name: "send", description: "sends", schema: z.object({ body: z.string() }) },
    );
    const llm = scripted([{ toolCalls: [{ name: "send", args: { body: `use ${KEY}` } }] }, { content: "done" }]);
    const warden = new Warden({ tracing: false });
    const done = summaries(warden);
    await wrapGraph(createReactAgent({ llm, tools: [send], name: "a" }), {
      warden,
      guards: { output: [{ evaluators: [noCredentials], action: "redact" }] },
    }).invoke(user("send it"));
    expect(seen).toEqual([{ body: `use ${KEY}` }]);
    expect(done[0]?.steps.filter((s) => s.k === "guard").map((s) => s.gd)).toEqual([{ d: "continue" }]);
  });
});
