/*
 * LangChain messages in the GenAI conventions' shapes (adapters/langgraph/messages.ts), each block
 * kind worked out by hand, and every result validated against the vendored JSON schemas.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { AIMessage, ChatMessage, HumanMessage, SystemMessage, ToolMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { Annotation, START, StateGraph } from "@langchain/langgraph";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { estimateInputTokens, requestFacts, responseFacts } from "../adapters/langgraph/chat.js";
import { wrapGraph } from "../adapters/langgraph/index.js";
import { inputMessages, outputMessages, toolDefinitions } from "../adapters/langgraph/messages.js";
import { ScriptedChatModel } from "../adapters/testing/index.js";
import { Warden } from "../src/index.js";

const schema = (name: string) =>
  new Ajv({ strict: false }).compile(
    JSON.parse(readFileSync(join(import.meta.dirname, "fixtures", "semconv", "gen-ai", name), "utf8")) as object,
  );
const input = schema("gen-ai-input-messages.json");
const output = schema("gen-ai-output-messages.json");
const system = schema("gen-ai-system-instructions.json");
const tools = schema("gen-ai-tool-definitions.json");

describe("LangChain messages as the conventions' messages", () => {
  it("roles, text, tool calls and their results; leading system messages are the system instructions", () => {
    const { system: instructions, input: messages } = inputMessages([
      new SystemMessage("Be brief."),
      new SystemMessage({ content: [{ type: "text", text: "Cite sources." }] }),
      new HumanMessage({ content: "Weather in Paris?", name: "ana" }),
      new AIMessage({
        content: "",
        tool_calls: [{ name: "get_weather", args: { city: "Paris" }, id: "call_1", type: "tool_call" }],
        invalid_tool_calls: [
          { name: "oops", args: "{not json", id: "call_2", error: "bad", type: "invalid_tool_call" },
        ],
      }),
      new ToolMessage({ content: "rainy, 57°F", tool_call_id: "call_1" }),
      new ToolMessage({
        content: [
          { type: "text", text: "a" },
          { type: "text", text: "b" },
        ],
        tool_call_id: "call_2",
      }),
      new SystemMessage("Mid-conversation note."),
      new ChatMessage({ role: "developer", content: "Use metric units." }),
      { role: "user", content: "plain object" },
    ]);
    expect(instructions).toEqual([
      { type: "text", content: "Be brief." },
      { type: "text", content: "Cite sources." },
    ]);
    expect(messages).toEqual([
      { role: "user", name: "ana", parts: [{ type: "text", content: "Weather in Paris?" }] },
      {
        role: "assistant",
        parts: [
          { type: "tool_call", id: "call_1", name: "get_weather", arguments: { city: "Paris" } },
          { type: "tool_call", id: "call_2", name: "oops", arguments: "{not json" },
        ],
      },
      { role: "tool", parts: [{ type: "tool_call_response", id: "call_1", response: "rainy, 57°F" }] },
      { role: "tool", parts: [{ type: "tool_call_response", id: "call_2", response: "ab" }] },
      { role: "system", parts: [{ type: "text", content: "Mid-conversation note." }] },
      { role: "system", parts: [{ type: "text", content: "Use metric units." }] },
      { role: "user", parts: [{ type: "text", content: "plain object" }] },
    ]);
    expect(input(messages)).toBe(true);
    expect(system(instructions)).toBe(true);
  });

  it("every content block kind: data, URLs, file ids, reasoning, provider tool blocks, unknown blocks", () => {
    const { input: messages } = inputMessages([
      new HumanMessage({
        content: [
          { type: "image_url", image_url: "data:image/jpeg;base64,AAAA" },
          { type: "image_url", image_url: { url: "gs://bucket/a.png" } },
          { type: "image", source_type: "url", url: "https://x.test/i.png", mime_type: "image/png" },
          { type: "image", url: "https://x.test/j.png", mimeType: "image/png" },
          { type: "image", data: "BBBB", mimeType: "image/webp" },
          { type: "image", source: { type: "base64", media_type: "image/gif", data: "CCCC" } },
          { type: "file", fileId: "file-9", mimeType: "application/pdf" },
          { type: "video", source_type: "url", url: "https://x.test/v.mp4" },
          { type: "input_audio", input_audio: { data: "DDDD", format: "mp3" } },
          { type: "document", source: { type: "url", url: "https://x.test/d.pdf" } },
          { type: "mystery", payload: 1 },
        ] as never,
      }),
    ]);
    expect(messages[0]?.parts).toEqual([
      { type: "blob", modality: "image", mime_type: "image/jpeg", content: "AAAA" },
      { type: "uri", modality: "image", mime_type: null, uri: "gs://bucket/a.png" },
      { type: "uri", modality: "image", mime_type: "image/png", uri: "https://x.test/i.png" },
      { type: "uri", modality: "image", mime_type: "image/png", uri: "https://x.test/j.png" },
      { type: "blob", modality: "image", mime_type: "image/webp", content: "BBBB" },
      { type: "blob", modality: "image", mime_type: "image/gif", content: "CCCC" },
      { type: "file", modality: "document", mime_type: "application/pdf", file_id: "file-9" },
      { type: "uri", modality: "video", mime_type: null, uri: "https://x.test/v.mp4" },
      { type: "blob", modality: "audio", mime_type: "audio/mp3", content: "DDDD" },
      { type: "uri", modality: "document", mime_type: null, uri: "https://x.test/d.pdf" },
      { type: "mystery", payload: 1 },
    ]);
    expect(input(messages)).toBe(true);
  });

  it("output: one message per generation with its finish reason; thinking, tool_use and server tools", () => {
    const anthropic = new AIMessage({
      content: [
        { type: "thinking", thinking: "Need the weather.", signature: "sig" },
        { type: "redacted_thinking", data: "xyz" },
        { type: "text", text: "Checking." },
        { type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris" } },
        { type: "server_tool_use", id: "srv_1", name: "web_search", input: { query: "paris" } },
        { type: "web_search_tool_result", tool_use_id: "srv_1", content: [{ type: "web_search_result", url: "u" }] },
      ] as never,
      tool_calls: [{ name: "get_weather", args: { city: "Paris" }, id: "toolu_1", type: "tool_call" }],
    });
    const openai = new AIMessage({
      content: [{ type: "reasoning", reasoning: "", summary: [{ type: "summary_text", text: "Short." }] }] as never,
    });
    const out = outputMessages([anthropic, openai], ["tool_use", "end_turn"]);
    expect(out).toEqual([
      {
        role: "assistant",
        finish_reason: "tool_call",
        parts: [
          { type: "reasoning", content: "Need the weather." },
          { type: "reasoning", content: "", redacted: true },
          { type: "text", content: "Checking." },
          // the tool_use block repeats message.tool_calls: it appears once, as the tool call
          {
            type: "server_tool_call",
            id: "srv_1",
            name: "web_search",
            server_tool_call: { type: "web_search", arguments: { query: "paris" } },
          },
          {
            type: "server_tool_call_response",
            id: "srv_1",
            server_tool_call_response: {
              type: "web_search_tool_result",
              output: [{ type: "web_search_result", url: "u" }],
            },
          },
          { type: "tool_call", id: "toolu_1", name: "get_weather", arguments: { city: "Paris" } },
        ],
      },
      { role: "assistant", finish_reason: "stop", parts: [{ type: "reasoning", content: "Short." }] },
    ]);
    expect(output(out)).toBe(true);
  });

  it("tool definitions: OpenAI-format tools and LangChain tools, type and name only", () => {
    const defs = toolDefinitions([
      { type: "function", function: { name: "get_weather", description: "d", parameters: {} } },
      { name: "search", description: "Searches.", schema: {} },
      { type: "web_search_preview", name: "web" },
      "not a tool",
    ]);
    expect(defs).toEqual([
      { type: "function", name: "get_weather" },
      { type: "function", name: "search" },
      { type: "web_search_preview", name: "web" },
    ]);
    expect(tools(defs)).toBe(true);
    expect(toolDefinitions([])).toBeUndefined();
  });
});

describe("response and request facts of a model call", () => {
  it("gen_ai.response.id from the provider's id, never from an id LangChain made up for its run", () => {
    const chat = { provider: "openai", requestModel: "gpt-4o" };
    responseFacts(chat, {
      generations: [[{ message: { id: "chatcmpl-123", response_metadata: { finish_reason: "stop" } } }]],
    });
    expect(chat).toMatchObject({ responseId: "chatcmpl-123", finishReasons: ["stop"] });
    const other = { provider: "openai", requestModel: "gpt-4o" };
    responseFacts(other, { generations: [[{ message: { id: "run-7f3a", response_metadata: {} } }]] });
    expect(other).not.toHaveProperty("responseId");
    const fromMeta = { provider: "anthropic", requestModel: "claude" };
    responseFacts(fromMeta, {
      generations: [[{ message: { id: "lc_run--1", response_metadata: { id: "msg_01", stop_reason: "end_turn" } } }]],
    });
    expect(fromMeta).toMatchObject({ responseId: "msg_01", finishReasons: ["end_turn"] });
  });

  it("gen_ai.request.* from the call options, else the model's settings; reasoning tokens", () => {
    const model = { model: "gpt-4o", temperature: 0.7, topP: 0.9, getLsParams: () => ({ ls_provider: "openai" }) };
    expect(requestFacts(model, { maxTokens: 100, stop: ["END"], seed: 7, n: 2, frequencyPenalty: 0.5 })).toEqual({
      provider: "openai",
      requestModel: "gpt-4o",
      params: {
        maxTokens: 100,
        temperature: 0.7,
        topP: 0.9,
        stopSequences: ["END"],
        seed: 7,
        choiceCount: 2,
        frequencyPenalty: 0.5,
      },
    });
    // Structured output: the request includes an output format (gen_ai.output.type).
    expect(
      requestFacts(model, { ls_structured_output_format: { kwargs: { method: "jsonSchema" }, schema: {} } }).params,
    ).toEqual({ temperature: 0.7, topP: 0.9, outputType: "json" });
    expect(requestFacts({ getLsParams: () => ({}) }, {})).toEqual({
      provider: "_OTHER",
      requestModel: "unknown",
      params: undefined,
    });
    const chat: { provider: string; requestModel: string; reasoningTokens?: number } = {
      provider: "openai",
      requestModel: "o3",
    };
    responseFacts(chat, {
      generations: [
        [
          {
            message: {
              usage_metadata: { input_tokens: 5, output_tokens: 40, output_token_details: { reasoning: 32 } },
            },
          },
        ],
      ],
    });
    expect(chat.reasoningTokens).toBe(32);
  });
});

describe("untrusted names", () => {
  it("a message type or finish reason named like an Object.prototype member is kept as it is", () => {
    const odd = { role: "constructor", content: "hi" };
    expect(inputMessages([odd]).input).toEqual([{ role: "constructor", parts: [{ type: "text", content: "hi" }] }]);
    expect(outputMessages([new AIMessage("x")], ["toString"])[0]?.finish_reason).toBe("toString");
  });
});

describe("reading the request never breaks the call", () => {
  it("a message that throws when read is reported (langgraph:chat) and the model call goes on", async () => {
    const reported: string[] = [];
    const warden = new Warden({ tracing: false, captureContent: true, onError: (_e, source) => reported.push(source) });
    const model = new ScriptedChatModel({ script: [{ content: "fine" }] });
    const odd = new HumanMessage("hello");
    Object.defineProperty(odd, "tool_calls", {
      get() {
        throw new Error("boom");
      },
    });
    const S = Annotation.Root({ out: Annotation<string>() });
    const graph = new StateGraph(S)
      .addNode("ask", async () => ({ out: String((await model.invoke([odd])).content) }))
      .addEdge(START, "ask")
      .compile({ name: "asker" });
    expect((await wrapGraph(graph, { warden }).invoke({})).out).toBe("fine");
    expect(reported).toEqual(["langgraph:chat"]);
  });
});

describe("captured conversations", () => {
  /** A 4-turn ReAct agent whose prompt and tool results carry secrets; the messages of every model call, recorded. */
  async function run(warden: Warden) {
    const sent: unknown[][] = [];
    const lookup = tool(async ({ key }: { key: string }) => `value of ${key}: token=ghp_${"a".repeat(36)}`, {
      name: "lookup",
      description: "Looks a key up.",
      schema: z.object({ key: z.string() }),
    });
    const model = new ScriptedChatModel({
      script: (messages) => {
        sent.push([...messages]);
        const turns = messages.filter((m) => m.getType() === "ai").length;
        return turns < 3
          ? {
              toolCalls: [{ name: "lookup", args: { key: `k${turns}` }, id: `call_${turns}` }],
              usage: { input: 10, output: 5 },
            }
          : { content: "done", usage: { input: 20, output: 2 } };
      },
    });
    const inputs: string[] = [];
    warden.hub.add({
      name: "probe",
      onStepEnd: (s) => {
        if (s.kind === "chat" && s.chat?.input !== undefined) inputs.push(s.chat.input);
      },
    });
    const agent = createReactAgent({ llm: model, tools: [lookup], prompt: "Be brief." });
    await wrapGraph(agent, { warden }).invoke({
      messages: [{ role: "user", content: "my card is 4111 1111 1111 1111, look k0 up" }],
    });
    return { sent, inputs };
  }

  it("each message converted and redacted once per task: the text is the whole list's, captured at once", async () => {
    const warden = new Warden({ tracing: false, captureContent: true });
    const { sent, inputs } = await run(warden);
    expect(inputs).toHaveLength(4);
    // The reference: the whole list of each call converted and redacted in one piece.
    const whole = sent.map((messages) => warden.redactText("gen_ai.input.messages", inputMessages([messages]).input));
    expect(inputs).toEqual(whole);
    expect(inputs.join("")).not.toContain("4111 1111");
    expect(inputs.join("")).not.toContain("ghp_");
    // The fourth call saw the user's message, three tool calls and three results: 7 messages.
    expect(JSON.parse(inputs[3] as string)).toHaveLength(7);
  });

  it("a custom redactor is given the whole list at every call, as before", async () => {
    const seen: string[] = [];
    const warden = new Warden({
      tracing: false,
      captureContent: true,
      redact: (text, field) => {
        if (field === "gen_ai.input.messages") seen.push(text);
        return text.replaceAll("4111 1111 1111 1111", "[card]");
      },
    });
    const { sent, inputs } = await run(warden);
    expect(seen).toHaveLength(4);
    expect(seen.map((t) => JSON.parse(t).length)).toEqual(sent.map((m) => m.length - 1)); // minus the system prompt
    expect(inputs[0]).toContain("[card]");
  });
});

describe("the cost guard's input estimate", () => {
  it("measures only what a call adds to the task's conversation, and the same as measuring it all", () => {
    const convo = [
      new HumanMessage("What are the tides?"),
      new AIMessage({ content: "", tool_calls: [{ name: "search", args: { q: "tides" }, id: "c1" }] }),
      new ToolMessage({ content: "The moon pulls the sea.", tool_call_id: "c1" }),
      new AIMessage("The moon."),
    ];
    const memo = {};
    // Each call sends the conversation so far ([[...]], as generate() gets it); the reference is a fresh measurement.
    for (let n = 1; n <= convo.length; n++) {
      const sent = [convo.slice(0, n)];
      expect(estimateInputTokens(sent, memo)).toBe(estimateInputTokens(sent));
    }
    // "What are the tides?" 19 + args {"q":"tides"} 13 + 23 + 9 = 64 characters: 16 tokens.
    expect(estimateInputTokens([convo])).toBe(16);
    // A conversation that is not an extension of the last one (rewritten, trimmed) is measured whole.
    const rewritten = [[convo[0], convo[1], new ToolMessage({ content: "x", tool_call_id: "c1" }), convo[3], convo[3]]];
    expect(estimateInputTokens(rewritten, memo)).toBe(Math.ceil((19 + 13 + 1 + 9 + 9) / 4));
    const trimmed = [[convo[0], new HumanMessage("and the moon?")]];
    expect(estimateInputTokens(trimmed, memo)).toBe(Math.ceil((19 + 13) / 4));
  });
});
