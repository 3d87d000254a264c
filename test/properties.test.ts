import { AIMessage, type BaseMessage, type MessageContent, ToolMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { Annotation, END, MessagesAnnotation, START, StateGraph } from "@langchain/langgraph";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { wrapGraph } from "../adapters/langgraph/index.js";
import { ScriptedChatModel, type ScriptedTurn } from "../adapters/testing/index.js";
import {
  type ErrorHook,
  guardExporter,
  isBreakerTrip,
  type Subscriber,
  type TaskSummary,
  Warden,
  type WardenOptions,
} from "../src/index.js";
import { redactSecrets, redactSecretsUnfiltered } from "../src/redact.js";
import { TEST_PRICES } from "./support/agents.js";
import { memoryTracing, useContextManager } from "./support/otel.js";

/*
 * Property-based tests of bad input (fast-check): whatever a tool returns, a model reports or a
 * user configures, the wrapped agent answers exactly as the bare graph does, its task ends, its
 * telemetry stays well-formed, and bad configuration fails at once with an error naming the field.
 */

const TRUNCATED = "…[truncated]";
const CONTENT_KEYS = new Set([
  "gen_ai.input.messages",
  "gen_ai.output.messages",
  "gen_ai.tool.call.arguments",
  "gen_ai.tool.call.result",
  "agentwarden.recovery.message",
]);

// ---------------------------------------------------------------------------------------------
// Oracles shared by the properties

type Outcome = { ok: unknown[] } | { error: string };

/** What a run of a ReAct agent returned, as comparable data (message ids are random, left out). */
async function outcomeOf(run: () => Promise<{ messages: BaseMessage[] }>): Promise<Outcome> {
  try {
    const out = await run();
    return { ok: out.messages.map(view) };
  } catch (error) {
    return { error: error instanceof Error ? `${error.name}: ${error.message}` : `thrown ${typeof error}` };
  }
}

function view(m: BaseMessage): unknown {
  const v: Record<string, unknown> = { type: m.getType(), content: m.content };
  if (m instanceof ToolMessage) {
    v.status = m.status;
    v.toolCallId = m.tool_call_id;
  }
  if (m instanceof AIMessage && m.tool_calls && m.tool_calls.length > 0) {
    v.toolCalls = m.tool_calls.map((c) => ({ name: c.name, id: c.id, args: c.args }));
  }
  return v;
}

const isPrimitiveAttribute = (x: unknown) =>
  typeof x === "string" || typeof x === "boolean" || (typeof x === "number" && Number.isFinite(x));

/**
 * Every exported attribute is an OpenTelemetry attribute value (a finite number, string, boolean or
 * a homogeneous array of them), captured content is a string within `maxContentLength` (plus the
 * truncation marker), and token counts are non-negative integers.
 */
function expectWellFormed(spans: readonly ReadableSpan[], maxContentLength: number): void {
  for (const s of spans) {
    for (const [key, value] of Object.entries(s.attributes)) {
      const where = `${s.name} ${key}`;
      if (Array.isArray(value)) {
        expect(value.every(isPrimitiveAttribute), where).toBe(true);
        expect(new Set(value.map((x) => typeof x)).size, where).toBeLessThanOrEqual(1);
      } else {
        expect(isPrimitiveAttribute(value), where).toBe(true);
      }
      if (CONTENT_KEYS.has(key)) {
        expect(typeof value, where).toBe("string");
        expect((value as string).length, where).toBeLessThanOrEqual(maxContentLength + TRUNCATED.length);
      }
      if (key.startsWith("gen_ai.usage.") || key.startsWith("llm.token_count.")) {
        expect(Number.isInteger(value) && (value as number) >= 0, `${where} = ${String(value)}`).toBe(true);
      }
    }
  }
}

const byStart = (a: ReadableSpan, b: ReadableSpan) =>
  a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1];

/** Spans named `name`, in start order. */
const named = (spans: readonly ReadableSpan[], name: string) => spans.filter((s) => s.name === name).sort(byStart);

/** Reads a property the way a careful reader would: a throwing getter or proxy reads as undefined. */
function safeGet(value: unknown, key: string): unknown {
  try {
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Arbitraries

/** Any value, including the awkward ones: bigints, Dates, typed arrays, sparse arrays, null prototypes, boxed values. */
const anyValue = fc.anything({
  maxDepth: 3,
  maxKeys: 4,
  withBigInt: true,
  withDate: true,
  withTypedArray: true,
  withSparseArray: true,
  withNullPrototype: true,
  withBoxedValues: true,
  withMap: true,
  withSet: true,
  withObjectString: true,
});

/** Strings with NUL, lone surrogates, astral characters, and long runs. */
const nastyString = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.constantFrom("", "\u0000", "a\u0000b", "\ud800", "x\udfffy", "\ud83d\ude00".repeat(3), "\u202e\ufeff"),
  fc
    .tuple(fc.string({ minLength: 1, maxLength: 3 }), fc.integer({ min: 1, max: 100_000 }))
    .map(([s, n]) => s.repeat(n)),
);

function cyclic(): unknown {
  const o: Record<string, unknown> = { name: "cycle", list: [] };
  o.self = o;
  (o.list as unknown[]).push(o, { back: o });
  return o;
}

function nullProtoCyclic(): unknown {
  const o = Object.create(null) as Record<string, unknown>;
  o.self = o;
  return o;
}

/** Objects that fight back when read: throwing getters, a revoked proxy, a throwing toJSON. */
const hostile = fc.constantFrom(
  "status getter",
  "content getter",
  "revoked proxy",
  "throwing toJSON",
  "throwing toString",
  "status error",
);

function makeHostile(kind: string): unknown {
  switch (kind) {
    case "status getter":
      return {
        toJSON: () => ({ fine: true }),
        get status(): never {
          throw new Error("status getter");
        },
      };
    case "content getter":
      return {
        toJSON: () => ({ fine: true }),
        get content(): never {
          throw new Error("content getter");
        },
      };
    case "revoked proxy": {
      const { proxy, revoke } = Proxy.revocable({}, {});
      revoke();
      return proxy;
    }
    case "throwing toJSON":
      return {
        toJSON() {
          throw new Error("toJSON");
        },
      };
    case "throwing toString":
      return Object.assign(Object.create(null) as object, {
        toString() {
          throw new Error("toString");
        },
      });
    default:
      return { status: "error", content: "a tool-shaped error result" };
  }
}

// ---------------------------------------------------------------------------------------------
// 1. Arbitrary tool results

describe("property: arbitrary tool results", () => {
  /** The case being run: the ReAct agent's model and tool read it (graphs are reused across runs). */
  let calls: Array<{ result: () => unknown; payload: unknown }> = [];

  const probe = tool(async ({ i }: { i: number }) => calls[i]?.result(), {
    name: "probe",
    description: "Returns whatever the case says.",
    schema: z.looseObject({ i: z.number() }),
  });
  const model = new ScriptedChatModel({
    model: "test-model",
    script: (messages) => {
      const k = messages.filter((m) => m.getType() === "tool").length;
      const next = calls[k];
      if (next) return { toolCalls: [{ name: "probe", args: { i: k, payload: next.payload }, id: `call_${k}` }] };
      return { content: `done after ${k}` };
    },
  });
  const bare = createReactAgent({ llm: model, tools: [probe], name: "prober" });
  const { provider, exporter, spans } = memoryTracing();
  const MAX = 64;
  const reported: string[] = [];
  const onError: ErrorHook = (_e, source) => reported.push(source);
  const capturing = new Warden({
    tracerProvider: provider,
    captureContent: true,
    maxContentLength: MAX,
    vocabularies: ["openinference", "traceloop"],
    prices: TEST_PRICES,
    onError,
  });
  const quiet = new Warden({ tracerProvider: provider, onError });
  const wrapped = { capturing: wrapGraph(bare, { warden: capturing }), quiet: wrapGraph(bare, { warden: quiet }) };

  const result = fc.oneof(
    { weight: 4, arbitrary: anyValue.map((v) => () => v) },
    { weight: 2, arbitrary: nastyString.map((v) => () => v) },
    { weight: 1, arbitrary: fc.constantFrom(cyclic, nullProtoCyclic) },
    { weight: 1, arbitrary: hostile.map((kind) => () => makeHostile(kind)) },
    {
      weight: 1,
      arbitrary: fc
        .record({
          content: nastyString,
          status: fc.constantFrom("success", "error") as fc.Arbitrary<"success" | "error">,
        })
        .map(
          ({ content, status }) =>
            () =>
              new ToolMessage({ content, status, tool_call_id: "whatever", name: "probe" }),
        ),
    },
    {
      weight: 1,
      arbitrary: fc
        .record({ content: anyValue, status: anyValue, tool_call_id: anyValue }, { requiredKeys: [] })
        .map((v) => () => v),
    },
  );

  it("the agent answers exactly as the bare graph, the task ends, spans stay well-formed", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ result, payload: anyValue }), { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        async (cases, capture) => {
          calls = cases;
          reported.length = 0;
          exporter.reset();
          const input = { messages: [{ role: "user", content: "go" }] };
          const expected = await outcomeOf(() => bare.invoke(input));
          const warden = capture ? capturing : quiet;
          const before = warden.stats();
          const actual = await outcomeOf(() => wrapped[capture ? "capturing" : "quiet"].invoke(input));
          expect(actual).toEqual(expected);
          const after = warden.stats();
          expect(after.openTasks).toBe(0);
          expect(after.tasksEnded).toBe(before.tasksEnded + 1);
          // The ReAct agent's tools answer through LangChain's ToolMessage formatting: nothing to fail on.
          expect(reported).toEqual([]);
          const tools = named(spans(), "execute_tool probe");
          expect(tools).toHaveLength(cases.length);
          expectWellFormed(spans(), MAX);
          if (capture) for (const t of tools) expect(typeof t.attributes["gen_ai.tool.call.arguments"]).toBe("string");
        },
      ),
      { numRuns: 60 },
    );
  });

  /** A node that calls the tool itself (no tool call id): the raw value reaches the tool funnel. */
  const raw = tool(async ({ i }: { i: number }) => direct[i], {
    name: "raw",
    description: "Returns the case's value as it is.",
    schema: z.object({ i: z.number() }),
  });
  let direct: unknown[] = [];
  const Direct = Annotation.Root({ n: Annotation<number>(), same: Annotation<boolean[]>() });
  const caller = new StateGraph(Direct)
    .addNode("call", async (s) => {
      const same: boolean[] = [];
      for (let i = 0; i < s.n; i++) same.push(Object.is(await raw.invoke({ i }), direct[i]));
      return { same };
    })
    .addEdge(START, "call")
    .addEdge("call", END)
    .compile();
  const wrappedCaller = {
    capturing: wrapGraph(caller, { warden: capturing, name: "caller" }),
    quiet: wrapGraph(caller, { warden: quiet, name: "caller" }),
  };

  it("a tool called directly hands its exact value back, whatever it is; only a tool-shaped error result fails the step", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          // Thunks: fast-check itself cannot hold a revoked proxy.
          fc.oneof(
            anyValue.map((v) => () => v),
            nastyString.map((v) => () => v),
            fc.constantFrom(cyclic, nullProtoCyclic),
            hostile.map((kind) => () => makeHostile(kind)),
          ),
          { minLength: 1, maxLength: 5 },
        ),
        fc.boolean(),
        async (thunks, capture) => {
          const values = thunks.map((f) => f());
          direct = values;
          reported.length = 0;
          exporter.reset();
          const run = async (graph: typeof caller) => {
            try {
              return (await graph.invoke({ n: values.length, same: [] })).same;
            } catch (error) {
              return (error as Error).message; // a revoked proxy cannot even be returned from an async tool
            }
          };
          const expected = await run(caller);
          expect(await run(wrappedCaller[capture ? "capturing" : "quiet"])).toEqual(expected);
          if (typeof expected === "string") return;
          expect(expected).toEqual(values.map(() => true));
          expect((capture ? capturing : quiet).stats().openTasks).toBe(0);
          const tools = named(spans(), "execute_tool raw");
          expect(tools).toHaveLength(values.length);
          for (const [i, span] of tools.entries()) {
            // A ToolMessage-shaped result with status "error" is a failed call (README, Spans); nothing else is.
            const failed = safeGet(values[i], "status") === "error";
            expect(span.status.code === 2, `value ${i}`).toBe(failed);
          }
          // Reading a hostile result is a telemetry failure, reported, never the tool's.
          expect(reported.every((s) => s === "langgraph:tool")).toBe(true);
          expectWellFormed(spans(), MAX);
        },
      ),
      { numRuns: 60 },
    );
  });

  /** A node calling a tool with its own (non-JSON) arguments: only identical calls count as a loop. */
  let argsList: unknown[] = [];
  let bodyRuns = 0;
  const echo = tool(
    async () => {
      bodyRuns++;
      return "ok";
    },
    { name: "echo", description: "Counts its calls.", schema: z.looseObject({}) },
  );
  const looper = new StateGraph(Direct)
    .addNode("call", async (s) => {
      const answers: boolean[] = [];
      for (let i = 0; i < s.n; i++) answers.push((await echo.invoke(argsList[i] as Record<string, unknown>)) === "ok");
      return { same: answers };
    })
    .addEdge(START, "call")
    .addEdge("call", END)
    .compile();
  // Loop detection stops tasks only when asked (`stop`): the property is about what it counts as the same call.
  const stopping = new Warden({ tracerProvider: provider, onError, loops: { stop: true } });
  const wrappedLooper = wrapGraph(looper, { warden: stopping, name: "looper" });
  /** Shapes that differ only by `n`, each in a type JSON cannot carry as it is. */
  const shaped = fc.constantFrom(
    (n: number) => ({ n }),
    (n: number) => ({ id: BigInt(n) }),
    (n: number) => ({ at: new Date(n * 86_400_000) }),
    (n: number) => ({ tags: new Set([n]) }),
    (n: number) => ({ map: new Map([["n", n]]) }),
    (n: number) => ({ bytes: new Uint8Array([n % 256, Math.floor(n / 256)]) }),
    (n: number) => ({ nested: [{ deep: { id: BigInt(n) } }] }),
  );

  it("loop detection never takes different arguments for the same call (bigints, Dates, Maps, Sets, typed arrays)", async () => {
    await fc.assert(
      fc.asyncProperty(
        shaped,
        fc.uniqueArray(fc.integer({ min: 0, max: 60_000 }), { minLength: 5, maxLength: 8 }),
        fc.jsonValue({ maxDepth: 2 }),
        async (shape, ns, common) => {
          argsList = ns.map((n) => ({ ...shape(n), common }));
          bodyRuns = 0;
          const out = await wrappedLooper.invoke({ n: ns.length, same: [] });
          // Loop detection (5 identical calls): distinct calls all run, none is answered with a hint.
          expect(out.same).toEqual(ns.map(() => true));
          expect(bodyRuns).toBe(ns.length);
        },
      ),
      { numRuns: 40 },
    );
    // The same call repeated is still a loop: the fifth identical call gets the hint instead of running.
    argsList = Array.from({ length: 5 }, () => ({ id: 7n, at: new Date(0) }));
    bodyRuns = 0;
    const out = await wrappedLooper.invoke({ n: 5, same: [] });
    expect(out.same).toEqual([true, true, true, true, false]);
    expect(bodyRuns).toBe(4);
  });
});

// ---------------------------------------------------------------------------------------------
// 2. Malformed usage metadata

/** A token count as agentwarden reads it: a non-negative safe integer, anything else unknown. */
const countOf = (v: unknown) => (typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? v + 0 : undefined);

interface RefUsage {
  input: number;
  output: number;
  cacheRead?: number;
  cacheWrite?: number;
}

const junkNumber = fc.oneof(
  fc.integer({ min: 0, max: 5_000 }),
  fc.integer(),
  fc.double(),
  fc.constantFrom(-1, -0, 0.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e308),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, 2 ** 53 + 2, Number.MAX_VALUE),
  fc.string({ maxLength: 6 }),
  fc.bigInt(),
  fc.constant(null),
  fc.constant(undefined),
  fc.object({ maxDepth: 1 }),
);

/** Anything but a plain object: where usage (or its details) is expected, it must be ignored. */
const notAnObject = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.integer(),
  fc.constant(null),
  fc.constant(undefined),
  fc.array(anyValue, { maxLength: 3 }),
);

/**
 * Malformed `usage_metadata` with what it should read as, derived from how it was generated: each
 * count through `countOf` (the reading rule), the structure from the generator itself.
 */
const junkUsage: fc.Arbitrary<{ raw: unknown; expected: RefUsage | undefined }> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .record(
        {
          input_tokens: junkNumber,
          output_tokens: junkNumber,
          total_tokens: junkNumber,
          details: fc.oneof(
            fc.record({ cache_read: junkNumber, cache_creation: junkNumber }, { requiredKeys: [] }),
            notAnObject,
          ),
          output_token_details: anyValue,
        },
        { requiredKeys: [] },
      )
      .map(({ details, ...fields }) => {
        const raw: Record<string, unknown> = { ...fields };
        if (details !== undefined) raw.input_token_details = details;
        const input = countOf(fields.input_tokens);
        const output = countOf(fields.output_tokens);
        if (input === undefined && output === undefined) return { raw, expected: undefined };
        const expected: RefUsage = { input: input ?? 0, output: output ?? 0 };
        if (typeof details === "object" && details !== null && !Array.isArray(details)) {
          const d = details as { cache_read?: unknown; cache_creation?: unknown };
          const cacheRead = countOf(d.cache_read);
          const cacheWrite = countOf(d.cache_creation);
          if (cacheRead !== undefined) expected.cacheRead = cacheRead;
          if (cacheWrite !== undefined) expected.cacheWrite = cacheWrite;
        }
        return { raw, expected };
      }),
  },
  { weight: 1, arbitrary: notAnObject.map((raw) => ({ raw, expected: undefined })) },
);

describe("property: malformed usage metadata", () => {
  let usages: unknown[] = [];
  const aiCount = (messages: BaseMessage[]) => messages.filter((m) => m.getType() === "ai").length;
  const model = new ScriptedChatModel({
    model: "test-model",
    script: (messages) => {
      const k = aiCount(messages);
      const turn: ScriptedTurn = { usageMetadata: usages[k] };
      if (k < usages.length - 1) turn.toolCalls = [{ name: "noop", args: { k }, id: `call_${k}` }];
      else turn.content = `reply ${k}`;
      return turn;
    },
  });
  const noop = tool(async () => "fine", { name: "noop", description: "Does nothing.", schema: z.looseObject({}) });
  const agent = createReactAgent({ llm: model, tools: [noop], name: "counter" });
  // A workflow whose model node streams: usage is read from the chunks.
  const streamer = new StateGraph(MessagesAnnotation)
    .addNode("model", async (s) => {
      let text = "";
      for await (const chunk of await model.stream(s.messages))
        text += typeof chunk.content === "string" ? chunk.content : "";
      return { messages: [new AIMessage(text)] };
    })
    .addEdge(START, "model")
    .addConditionalEdges("model", (s) => (aiCount(s.messages) < usages.length ? "model" : END))
    .compile();

  const { provider, exporter, spans } = memoryTracing();
  const reported: string[] = [];
  const warden = new Warden({
    tracerProvider: provider,
    prices: TEST_PRICES,
    vocabularies: ["openinference"],
    onError: (_e, s) => reported.push(s),
  });
  const summaries: TaskSummary[] = [];
  warden.onTaskEnd((run) => summaries.push(run.summary()));
  const wrapped = { invoke: wrapGraph(agent, { warden }), stream: wrapGraph(streamer, { warden, name: "streamer" }) };
  const bare = { invoke: agent, stream: streamer };

  it("never throws from telemetry; figures stay finite, non-negative and exact where usage is readable", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(junkUsage, { minLength: 1, maxLength: 4 }),
        fc.constantFrom("invoke", "stream") as fc.Arbitrary<"invoke" | "stream">,
        async (junk, how) => {
          usages = junk.map((j) => j.raw);
          reported.length = 0;
          summaries.length = 0;
          exporter.reset();
          const input = { messages: [{ role: "user", content: "count" }] };
          const expected = await outcomeOf(() => bare[how].invoke(input));
          const actual = await outcomeOf(() => wrapped[how].invoke(input));
          expect(actual).toEqual(expected);
          expect(warden.stats().openTasks).toBe(0);
          expect(reported).toEqual([]);
          expect(summaries).toHaveLength(1);
          const s = summaries[0] as TaskSummary;
          if ("error" in expected) return; // LangChain itself refused the junk: the same error, as asserted
          const refs = junk.map((j) => j.expected);
          expect(s.models["test-model"]?.calls).toBe(junk.length);
          expect(s.estimatedUsageCalls).toBe(refs.filter((r) => r === undefined).length);
          expect(s.costUnknownCalls).toBe(0);
          for (const v of Object.values(s.tokens)) expect(Number.isInteger(v) && v >= 0, String(v)).toBe(true);
          expect(Number.isFinite(s.costUsd) && s.costUsd >= 0).toBe(true);
          if (s.estimatedUsageCalls === 0) {
            const sum = (f: (r: RefUsage) => number) => refs.reduce((a, r) => a + f(r as RefUsage), 0);
            // A task's sums are held at 2^53 - 1 (README, "Agent metrics"): past it a count is not exact.
            const held = (n: number) => Math.min(n, Number.MAX_SAFE_INTEGER);
            expect(s.tokens).toEqual({
              input: held(sum((r) => r.input)),
              output: held(sum((r) => r.output)),
              cacheRead: held(sum((r) => r.cacheRead ?? 0)),
              cacheWrite: held(sum((r) => r.cacheWrite ?? 0)),
            });
            const cost = sum((r) => {
              const cr = r.cacheRead ?? 0;
              const cw = r.cacheWrite ?? 0;
              return (Math.max(0, r.input - cr - cw) * 1 + cr * 0.1 + cw * 1.25 + r.output * 2) / 1e6;
            });
            expect(Math.abs(s.costUsd - cost), `${s.costUsd} vs ${cost}`).toBeLessThanOrEqual(
              1e-12 * Math.max(1, cost),
            );
          }
          // Each chat span reports exactly the readable usage, or none (marked missing).
          const chats = named(spans(), "chat test-model");
          expect(chats).toHaveLength(junk.length);
          for (const [i, chat] of chats.entries()) {
            const r = refs[i];
            const a = chat.attributes;
            if (r) {
              expect(a["gen_ai.usage.input_tokens"]).toBe(r.input);
              expect(a["gen_ai.usage.output_tokens"]).toBe(r.output);
              expect(a["gen_ai.usage.cache_read.input_tokens"]).toBe(r.cacheRead);
              expect(a["gen_ai.usage.cache_creation.input_tokens"]).toBe(r.cacheWrite);
            } else {
              expect(Object.keys(a).filter((k) => k.startsWith("gen_ai.usage."))).toEqual([]);
              expect(a["agentwarden.usage.missing"]).toBe(true);
            }
          }
          expectWellFormed(spans(), Number.POSITIVE_INFINITY);
        },
      ),
      { numRuns: 60 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// 3. Non-string message content

const block = fc.oneof(
  fc.record({ type: fc.constant("text"), text: nastyString }),
  fc.record({ type: fc.constant("image_url"), image_url: fc.record({ url: fc.webUrl() }) }),
  fc.record({
    type: fc.constant("tool_use"),
    id: fc.string({ maxLength: 8 }),
    name: fc.string({ maxLength: 8 }),
    input: fc.jsonValue({ maxDepth: 2 }),
  }),
  fc.record({ type: fc.string({ maxLength: 10 }), data: fc.jsonValue({ maxDepth: 2 }) }),
  fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
);
const content: fc.Arbitrary<MessageContent> = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.array(block, { maxLength: 4 }) as fc.Arbitrary<MessageContent>,
);

type Msg = { role: string; parts: Array<Record<string, unknown>> };

/** What the conventions' parts keep of each generated block (worked out per block kind, not by the converter). */
function expectParts(parts: Msg["parts"] | undefined, content: MessageContent): void {
  if (typeof content === "string") {
    expect(parts).toEqual(content.length > 0 ? [{ type: "text", content }] : []);
    return;
  }
  const blocks = content as unknown as Array<Record<string, unknown>>;
  expect(parts).toHaveLength(blocks.length);
  blocks.forEach((b, i) => {
    const p = parts?.[i] as Record<string, unknown>;
    expect(typeof p.type).toBe("string");
    if (b.type === "text" && typeof b.text === "string") expect(p).toEqual({ type: "text", content: b.text });
    else if (b.type === "image_url")
      expect(p).toEqual({
        type: "uri",
        modality: "image",
        mime_type: null,
        uri: (b.image_url as { url: string }).url,
      });
    else if (b.type === "tool_use" && "input" in b)
      expect(p).toEqual(
        JSON.parse(JSON.stringify({ type: "tool_call", id: b.id, name: b.name, arguments: b.input ?? null })),
      );
    else if (typeof b.type !== "string") expect(p.type).toBe("unknown");
  });
}

describe("property: non-string message content", () => {
  let reply: MessageContent = "";
  let toolContent: MessageContent | undefined;
  const blocks = tool(async () => toolContent ?? "", {
    name: "blocks",
    description: "Answers with content blocks.",
    schema: z.looseObject({}),
  });
  const model = new ScriptedChatModel({
    model: "test-model",
    script: (messages) => {
      const k = messages.filter((m) => m.getType() === "tool").length;
      if (toolContent !== undefined && k === 0)
        return { toolCalls: [{ name: "blocks", args: {}, id: "call_0" }], content: reply };
      return { content: reply };
    },
  });
  const bare = createReactAgent({ llm: model, tools: [blocks], name: "blocky" });
  const { provider, exporter, spans } = memoryTracing();
  const reported: string[] = [];
  // Identity redaction and no cut: what is captured is exactly the JSON of what was said.
  const exact = new Warden({
    tracerProvider: provider,
    captureContent: true,
    redact: (t) => t,
    maxContentLength: 1_000_000,
    onError: (_e, s) => reported.push(s),
  });
  const cut = new Warden({ tracerProvider: provider, captureContent: true, maxContentLength: 40 });
  const wrapped = { exact: wrapGraph(bare, { warden: exact }), cut: wrapGraph(bare, { warden: cut }) };
  const json = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;

  it("content blocks, empty arrays and unknown block types are answered as by the bare graph and captured in the conventions' message shapes", async () => {
    await fc.assert(
      fc.asyncProperty(
        content,
        content,
        fc.option(content, { nil: undefined }),
        fc.boolean(),
        async (user, answer, fromTool, exactly) => {
          reply = answer;
          toolContent = fromTool;
          reported.length = 0;
          exporter.reset();
          const input = { messages: [{ role: "user", content: user }] };
          const expected = await outcomeOf(() => bare.invoke(input));
          const actual = await outcomeOf(() => wrapped[exactly ? "exact" : "cut"].invoke(input));
          expect(actual).toEqual(expected);
          expect((exactly ? exact : cut).stats().openTasks).toBe(0);
          expectWellFormed(spans(), exactly ? 1_000_000 : 40);
          if (!exactly || !("ok" in expected)) return;
          expect(reported).toEqual([]);
          const chats = named(spans(), "chat test-model");
          const first = chats[0] as ReadableSpan;
          const last = chats.at(-1) as ReadableSpan;
          // The conventions' shapes: one part per content block, in order, each block's own facts kept.
          const [inMsg, ...moreIn] = JSON.parse(first.attributes["gen_ai.input.messages"] as string) as Msg[];
          expect(moreIn).toEqual([]);
          expect(inMsg?.role).toBe("user");
          expectParts(inMsg?.parts, user);
          const final = expected.ok.at(-1) as { content: MessageContent };
          const [outMsg, ...moreOut] = JSON.parse(last.attributes["gen_ai.output.messages"] as string) as Msg[];
          expect(moreOut).toEqual([]);
          expect(outMsg?.role).toBe("assistant");
          expectParts(outMsg?.parts, final.content);
          if (fromTool !== undefined) {
            const t = named(spans(), "execute_tool blocks")[0] as ReadableSpan;
            const r = t.attributes["gen_ai.tool.call.result"] as string;
            expect(typeof fromTool === "string" ? r : JSON.parse(r)).toEqual(
              typeof fromTool === "string" ? fromTool : json(fromTool),
            );
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// 4. Huge payloads

describe("property: huge payloads", () => {
  let payload = { args: "", result: "" };
  const big = tool(async () => payload.result, {
    name: "big",
    description: "Answers with a lot.",
    schema: z.object({ blob: z.string() }),
  });
  const model = new ScriptedChatModel({
    model: "test-model",
    script: (messages) =>
      messages.some((m) => m.getType() === "tool")
        ? { content: `read ${String(messages.at(-1)?.content).length} characters` }
        : { toolCalls: [{ name: "big", args: { blob: payload.args }, id: "call_big" }] },
  });
  const bare = createReactAgent({ llm: model, tools: [big], name: "hauler" });
  const { provider, exporter, spans } = memoryTracing();
  const MAX = 2_048;
  const warden = new Warden({ tracerProvider: provider, captureContent: true, maxContentLength: MAX });
  const agent = wrapGraph(bare, { warden });
  /** 1–5 MB of a repeated pattern that sometimes holds secrets for the redactor to find. */
  const megabytes = fc
    .tuple(
      fc.oneof(
        fc.string({ minLength: 1, maxLength: 12 }),
        fc.constantFrom(
          "mail bob@example.com ",
          "key sk-ant-abcdefghijklmnopqrstuv ",
          "4111 1111 1111 1111 ",
          "\ud83d\ude00",
        ),
      ),
      fc.integer({ min: 1_000_000, max: 5_000_000 }),
    )
    .map(([s, n]) => s.repeat(Math.ceil(n / s.length)).slice(0, n));

  it("captures are cut to maxContentLength and each span's attributes stay bounded", async () => {
    await fc.assert(
      fc.asyncProperty(megabytes, megabytes, megabytes, async (user, args, result) => {
        payload = { args, result };
        exporter.reset();
        const input = { messages: [{ role: "user", content: user }] };
        const started = performance.now();
        const out = await agent.invoke(input);
        const took = performance.now() - started;
        expect(out.messages.at(-1)?.content).toBe(`read ${result.length} characters`);
        expect(warden.stats().openTasks).toBe(0);
        expectWellFormed(spans(), MAX);
        for (const s of spans()) {
          const size = Object.values(s.attributes).reduce<number>(
            (n, v) => n + (typeof v === "string" ? v.length : 32),
            0,
          );
          // At most two captured values per span (input and output, arguments and result), plus names.
          expect(size, s.name).toBeLessThan(2 * (MAX + TRUNCATED.length) + 2_000);
        }
        // Redaction and serialisation of megabytes stay linear: well under a second a run.
        expect(took).toBeLessThan(5_000);
      }),
      { numRuns: 5 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// 5. Bad configuration

type Expected = "ok" | "TypeError" | "RangeError";
interface Case {
  /** The field's path, as the error must name it. */
  path: string;
  /** The top-level option and its value. */
  key: string;
  value: unknown;
  expect: Expected;
}

interface NumberRule {
  int?: boolean;
  min?: number;
  /** `min` excluded (`> above`). */
  above?: number;
  max?: number;
  /** Required: undefined is a wrong type. */
  required?: boolean;
  /** ±Infinity is out of range rather than a wrong type (prices). */
  infiniteIsRange?: boolean;
}

/**
 * The oracle of a number field: the wrong type (not a number, NaN, ±Infinity, a fraction where an
 * integer is wanted) is a TypeError; a number out of range (an integer beyond 2^53 included) a RangeError.
 */
function judgeNumber(v: unknown, rule: NumberRule): Expected {
  if (v === undefined) return rule.required ? "TypeError" : "ok";
  if (typeof v !== "number" || Number.isNaN(v)) return "TypeError";
  if (!Number.isFinite(v)) return rule.infiniteIsRange ? "RangeError" : "TypeError";
  if (rule.int && !Number.isInteger(v)) return "TypeError";
  if (rule.int && !Number.isSafeInteger(v)) return "RangeError";
  if (rule.min !== undefined && v < rule.min) return "RangeError";
  if (rule.above !== undefined && v <= rule.above) return "RangeError";
  if (rule.max !== undefined && v > rule.max) return "RangeError";
  return "ok";
}

/** Values of the wrong type for most fields. Objects have only keys no option has (`x_…`), or none. */
const wrongType = fc.oneof(
  fc.string({ maxLength: 5 }),
  fc.boolean(),
  fc.constant(null),
  fc.bigInt(),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.constant({}),
  fc.dictionary(
    fc.string({ maxLength: 4 }).map((k) => `x_${k}`),
    fc.integer(),
    { minKeys: 1, maxKeys: 2 },
  ),
  fc.constant(() => 1),
  fc.constant(Symbol("s")),
);
const numberValue = fc.oneof(
  fc.integer({ min: -3, max: 12 }),
  fc.double(),
  fc.constantFrom(0, -0, 1, 0.5, 1.5, 2, 100, 101, 1_000_001, 2 ** 31 - 1, 2 ** 31, 2 ** 53, 1e308, 1e-9),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 31 * 24 * 3600, 31 * 24 * 3600 + 1),
  wrongType,
  fc.constant(undefined),
);
const anyValueOf = fc.oneof(
  wrongType,
  fc.constant(undefined),
  fc.constantFrom("abort", "finalize", "thread", true, false),
);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isEmptyObject = (v: unknown) => isObject(v) && Object.keys(v).length === 0;
/** A record: an object whose values each pass `each` (the first failing one decides). */
const judgeRecord =
  (each: (v: unknown) => Expected) =>
  (v: unknown): Expected => {
    if (v === undefined) return "ok";
    if (!isObject(v)) return "TypeError";
    for (const x of Object.values(v)) if (each(x) !== "ok") return each(x);
    return "ok";
  };
const isTool = (v: unknown) => isFunction((v as { invoke?: unknown } | null | undefined)?.invoke);
/** Judges a field whose valid values `ok` accepts; undefined (left out) is always valid. */
const judge =
  (ok: (v: unknown) => boolean) =>
  (v: unknown): Expected =>
    v === undefined || ok(v) ? "ok" : "TypeError";
const isBoolean = (v: unknown) => typeof v === "boolean";
const isFunction = (v: unknown) => typeof v === "function";
/** `false`, or an options object (here: one with no field set). */
const offOrObject = (v: unknown) => v === false || isEmptyObject(v);

/** `{ a: { b: v } }` for `sub` `[a, b]`; an index nests in an array. */
function nest(sub: string[], v: unknown): unknown {
  let out = v;
  for (const k of [...sub].reverse()) out = /^\d+$/.test(k) ? [out] : { [k]: out };
  return out;
}

function numberCase(key: string, sub: string[], rule: NumberRule): fc.Arbitrary<Case> {
  return numberValue.map((v) => ({
    key,
    path: [key, ...sub].join("."),
    value: nest(sub, v),
    expect: judgeNumber(v, rule),
  }));
}

function valueCase(
  key: string,
  sub: string[],
  arb: fc.Arbitrary<unknown>,
  verdict: (v: unknown) => Expected,
): fc.Arbitrary<Case> {
  return arb.map((v) => ({ key, path: [key, ...sub].join("."), value: nest(sub, v), expect: verdict(v) }));
}

/** A key no option has, under `key` (at the top when `key` is empty): a TypeError naming it. */
function unknownKeyCase(key: string): fc.Arbitrary<Case> {
  return fc
    .string({ maxLength: 6 })
    .map((k) => `x_${k}`)
    .map((k) => ({ key: key || k, path: key ? `${key}.${k}` : k, value: key ? { [k]: 1 } : 1, expect: "TypeError" }));
}

/** One field of `limits` (the options' or an invoke's), valid or not. */
const limitCase: fc.Arbitrary<Case> = fc.oneof(
  numberCase("limits", ["maxCostUsd"], { min: 0 }),
  numberCase("limits", ["maxDurationMs"], { min: 0, max: 2 ** 31 - 1 }),
  ...["maxTokens", "maxSteps", "maxDepth", "maxToolCalls"].map((f) => numberCase("limits", [f], { int: true, min: 0 })),
  numberCase("limits", ["maxToolCallsPerTool", "web_search"], { int: true, min: 0, required: true }),
  valueCase(
    "limits",
    ["maxToolCallsPerTool"],
    wrongType,
    judgeRecord((v) => judgeNumber(v, { int: true, min: 0, required: true })),
  ),
  valueCase("limits", [], wrongType, judge(isEmptyObject)),
  unknownKeyCase("limits"),
);

const PRICE_FIELDS = ["input", "output", "cacheRead", "cacheWrite"];
const budgetFields: Array<[string, fc.Arbitrary<unknown>, (v: unknown) => Expected]> = [
  [
    "name",
    fc.oneof(fc.string({ maxLength: 4 }), wrongType, fc.constant(undefined)),
    (v) => (typeof v !== "string" ? "TypeError" : v.length === 0 ? "RangeError" : "ok"),
  ],
  [
    "key",
    fc.oneof(fc.constantFrom("thread", "tenant", "user"), wrongType, fc.constant(undefined)),
    (v) => (v === "thread" || v === "tenant" || isFunction(v) ? "ok" : "TypeError"),
  ],
  ["maxCostUsd", numberValue, (v) => judgeNumber(v, { min: 0, required: true })],
  ["windowMs", numberValue, (v) => judgeNumber(v, { min: 1, required: true })],
];

/** One field of the options, valid or not, with the oracle's verdict. */
const optionCase: fc.Arbitrary<Case> = fc.oneof(
  ...["tracing", "captureContent"].map((k) => valueCase(k, [], anyValueOf, judge(isBoolean))),
  ...["redact", "onError"].map((k) => valueCase(k, [], anyValueOf, judge(isFunction))),
  valueCase(
    "tracerProvider",
    [],
    anyValueOf,
    judge((v) => isFunction((v as { getTracer?: unknown } | null)?.getTracer)),
  ),
  valueCase(
    "meterProvider",
    [],
    anyValueOf,
    judge((v) => isFunction((v as { getMeter?: unknown } | null)?.getMeter)),
  ),
  valueCase(
    "budgetStore",
    [],
    anyValueOf,
    judge(() => false),
  ),
  numberCase("maxContentLength", [], { int: true, min: 1 }),
  numberCase("defaultMaxOutputTokens", [], { int: true, min: 1 }),
  numberCase("flushTimeoutMs", [], { int: true, min: 1, max: 2 ** 31 - 1 }),
  valueCase(
    "vocabularies",
    [],
    anyValueOf,
    judge((v) => Array.isArray(v) && v.length === 0),
  ),
  valueCase(
    "vocabularies",
    ["0"],
    fc.oneof(fc.constantFrom("openinference", "traceloop", "zipkin", "OpenInference"), wrongType),
    (v) => (v === "openinference" || v === "traceloop" ? "ok" : "TypeError"),
  ),
  valueCase(
    "metrics",
    [],
    anyValueOf,
    judge((v) => isBoolean(v) || isEmptyObject(v)),
  ),
  numberCase("metrics", ["windowTasks"], { int: true, min: 1, max: 1_000_000 }),
  numberCase("metrics", ["windowSeconds"], { min: 1, max: 31 * 24 * 3600 }),
  numberCase("metrics", ["maxKeys"], { int: true, min: 1 }),
  valueCase("metrics", ["subtask"], fc.oneof(fc.constantFrom("tool", "node", "step"), wrongType), (v) =>
    v === "tool" || v === "node" ? "ok" : "TypeError",
  ),
  unknownKeyCase("metrics"),
  valueCase(
    "prices",
    [],
    wrongType,
    judgeRecord(() => "TypeError"),
  ),
  valueCase("prices", ["gpt-x"], wrongType, () => "TypeError"),
  ...PRICE_FIELDS.map((f) =>
    numberValue.map((v) => ({
      key: "prices",
      path: `prices.my-model.${f}`,
      value: { "my-model": { input: 1, output: 2, [f]: v } },
      expect: judgeNumber(v, { min: 0, infiniteIsRange: true, required: f === "input" || f === "output" }),
    })),
  ),
  unknownKeyCase("prices.my-model").map((c) => ({
    ...c,
    key: "prices",
    value: { "my-model": { input: 1, output: 1, ...(c.value as object) } },
  })),
  // A valid store opens a file: only invalid ones here.
  valueCase(
    "store",
    [],
    fc.oneof(
      fc.constant(""),
      wrongType.filter((v) => typeof v !== "string"),
      fc.constant(undefined),
    ),
    (v) => (v === undefined ? "ok" : v === "" ? "RangeError" : "TypeError"),
  ),
  valueCase("recovery", [], anyValueOf, judge(offOrObject)),
  valueCase("recovery", ["retry"], anyValueOf, judge(offOrObject)),
  numberCase("recovery", ["retry", "maxAttempts"], { int: true, min: 1, max: 100 }),
  numberCase("recovery", ["retry", "initialDelayMs"], { min: 0, max: 2 ** 31 - 1 }),
  numberCase("recovery", ["retry", "maxDelayMs"], { min: 0, max: 2 ** 31 - 1 }),
  unknownKeyCase("recovery.retry").map((c) => ({ ...c, key: "recovery", value: { retry: c.value } })),
  valueCase(
    "recovery",
    ["fallbacks"],
    anyValueOf,
    judgeRecord((x) => (isTool(x) ? "ok" : "TypeError")),
  ),
  valueCase("recovery", ["fallbacks", "search"], anyValueOf, (v) => (isTool(v) ? "ok" : "TypeError")),
  valueCase("recovery", ["correctiveMessages"], anyValueOf, judge(isBoolean)),
  valueCase("recovery", ["onToolError"], anyValueOf, judge(isFunction)),
  unknownKeyCase("recovery"),
  valueCase(
    "toolCosts",
    [],
    wrongType,
    judgeRecord((v) => judgeNumber(v, { min: 0, required: true })),
  ),
  numberCase("toolCosts", ["search"], { min: 0, required: true }),
  limitCase,
  valueCase(
    "onTrip",
    [],
    anyValueOf,
    judge((v) => v === "abort" || v === "finalize" || isFunction(v)),
  ),
  valueCase("loops", [], anyValueOf, judge(offOrObject)),
  numberCase("loops", ["repeats"], { int: true, min: 2 }),
  numberCase("loops", ["window"], { int: true, min: 2 }),
  ...["nearDuplicates", "hint", "stateCycles"].map((f) => valueCase("loops", [f], anyValueOf, judge(isBoolean))),
  unknownKeyCase("loops"),
  valueCase("toolBreaker", [], anyValueOf, judge(offOrObject)),
  numberCase("toolBreaker", ["consecutiveFailures"], { int: true, min: 1 }),
  numberCase("toolBreaker", ["failureRate"], { above: 0, max: 1 }),
  numberCase("toolBreaker", ["rateWindowMs"], { min: 1 }),
  numberCase("toolBreaker", ["minimumCalls"], { int: true, min: 1 }),
  numberCase("toolBreaker", ["halfOpenAfterMs"], { min: 0 }),
  unknownKeyCase("toolBreaker"),
  valueCase(
    "sharedBudgets",
    [],
    anyValueOf,
    judge((v) => Array.isArray(v) && v.length === 0),
  ),
  ...budgetFields.map(([field, arb, verdict]) =>
    arb.map((v) => ({
      key: "sharedBudgets",
      path: `sharedBudgets.0.${field}`,
      value: [{ name: "daily", key: "thread", maxCostUsd: 1, windowMs: 1000, [field]: v }],
      expect: verdict(v),
    })),
  ),
  unknownKeyCase("sharedBudgets.0").map((c) => ({
    ...c,
    key: "sharedBudgets",
    value: [{ name: "daily", key: "thread", maxCostUsd: 1, windowMs: 1000, ...(c.value as object) }],
  })),
  unknownKeyCase(""),
);

/** True when `message` names `path`: the field itself, a field inside it, or an unknown key there. */
function names(message: string, path: string): boolean {
  return (
    message.includes(`option ${path} is invalid`) ||
    message.includes(`option ${path}.`) ||
    message.includes(`unknown option ${path}`)
  );
}

/** The error a bad field must raise: its class, and a message naming the field. */
function expectConfigError(error: unknown, c: Case): void {
  expect(error, `${c.path} should be rejected`).toBeInstanceOf(c.expect === "RangeError" ? RangeError : TypeError);
  if (c.expect === "TypeError") expect(error).not.toBeInstanceOf(RangeError);
  const message = (error as Error).message;
  expect(names(message, c.path), `"${message}" should name ${c.path}`).toBe(true);
}

function construct(options: unknown): unknown {
  try {
    new Warden(options as WardenOptions);
    return undefined;
  } catch (error) {
    return error;
  }
}

describe("property: bad configuration", () => {
  it("each field alone: a valid value constructs, an invalid one throws a TypeError or RangeError naming the field", () => {
    fc.assert(
      fc.property(optionCase, (c) => {
        const error = construct({ tracing: false, [c.key]: c.value });
        if (c.expect === "ok") expect(error).toBeUndefined();
        else expectConfigError(error, c);
      }),
      { numRuns: 3_000 },
    );
  });

  it("several fields: the error names one of the invalid ones; all valid constructs", () => {
    fc.assert(
      fc.property(fc.uniqueArray(optionCase, { selector: (c) => c.key, minLength: 1, maxLength: 6 }), (cases) => {
        const error = construct(Object.fromEntries(cases.map((c) => [c.key, c.value])));
        const bad = cases.filter((c) => c.expect !== "ok");
        if (bad.length === 0) {
          expect(error).toBeUndefined();
          return;
        }
        expect(error).toBeInstanceOf(Error);
        const message = (error as Error).message;
        const culprit = bad.find((c) => names(message, c.path));
        expect(culprit, `"${message}" names none of ${bad.map((c) => c.path).join(", ")}`).toBeDefined();
        expectConfigError(error, culprit as Case);
      }),
      { numRuns: 1_000 },
    );
  });

  const model = new ScriptedChatModel({ model: "test-model", script: [{ content: "hi" }] });
  const agent = createReactAgent({ llm: model, tools: [], name: "limited" });
  const warden = new Warden({ tracing: false, prices: TEST_PRICES });
  const wrapped = wrapGraph(agent, { warden });
  const input = { messages: [{ role: "user", content: "hi" }] };

  it("per-invoke limits: an invalid one rejects before the task starts, naming configurable.agentwarden.limits.<field>", async () => {
    await fc.assert(
      fc.asyncProperty(limitCase, async (c) => {
        const before = warden.stats();
        let error: unknown;
        try {
          await wrapped.invoke(input, { configurable: { agentwarden: { limits: c.value } } });
        } catch (e) {
          error = e;
        }
        const after = warden.stats();
        expect(after.openTasks).toBe(0);
        if (c.expect === "ok") {
          // A valid limit may trip its breaker (maxSteps: 0): that is no configuration error.
          if (error !== undefined) expect(isBreakerTrip(error), String(error)).toBe(true);
          expect(after.tasksStarted).toBe(before.tasksStarted + 1);
          return;
        }
        expect(after.tasksStarted).toBe(before.tasksStarted);
        expectConfigError(error, { ...c, path: `configurable.agentwarden.${c.path}` });
      }),
      { numRuns: 200 },
    );
  });

  it("per-invoke configurable.agentwarden that is not an object is rejected, naming it", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string(),
          fc.integer(),
          fc.boolean(),
          fc.array(fc.integer()),
          fc.constant(() => 1),
        ),
        async (value) => {
          await expect(wrapped.invoke(input, { configurable: { agentwarden: value } })).rejects.toThrow(
            /configurable\.agentwarden must be an object/,
          );
          expect(warden.stats().openTasks).toBe(0);
        },
      ),
      { numRuns: 30 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// 6. Throwing subscribers, redactors and exporters

describe("property: throwing telemetry", () => {
  let results: unknown[] = [];
  let thrown: unknown = new Error("boom");
  const probe = tool(async ({ i }: { i: number }) => results[i], {
    name: "probe",
    description: "Returns whatever the case says.",
    schema: z.looseObject({ i: z.number() }),
  });
  const model = new ScriptedChatModel({
    model: "test-model",
    script: (messages) => {
      const k = messages.filter((m) => m.getType() === "tool").length;
      if (k < results.length) return { toolCalls: [{ name: "probe", args: { i: k }, id: `call_${k}` }] };
      return { content: `done after ${k}` };
    },
  });
  const bare = createReactAgent({ llm: model, tools: [probe], name: "faulty" });

  useContextManager();
  const exporter = new InMemorySpanExporter();
  const spans = () => exporter.getFinishedSpans();
  let report: ErrorHook = () => undefined;
  let exports = 0;
  const throwingExporter = {
    export() {
      exports++;
      throw thrown;
    },
    async shutdown() {},
  };
  const withThrowingExporter = new BasicTracerProvider({
    spanProcessors: [
      new SimpleSpanProcessor(exporter),
      new SimpleSpanProcessor(guardExporter(throwingExporter, (e, s) => report(e, s))),
    ],
  });

  let redactions = 0;
  let hookThrows = false;
  const warden = new Warden({
    tracerProvider: withThrowingExporter,
    captureContent: true,
    maxContentLength: 100,
    redact: () => {
      redactions++;
      throw thrown;
    },
    onError: () => {
      if (hookThrows) throw thrown;
    },
  });
  report = warden.reportError;
  const counted = { starts: 0, ends: 0, activations: 0, taskEnds: 0 };
  const faulty: Subscriber = {
    name: "faulty",
    onStepStart() {
      throw thrown;
    },
    onStepEnd() {
      throw thrown;
    },
    onTaskEnd() {
      throw thrown;
    },
    activate() {
      throw thrown;
    },
  };
  const counter: Subscriber = {
    name: "counter",
    onStepStart: () => void counted.starts++,
    onStepEnd: () => void counted.ends++,
    onTaskEnd: () => void counted.taskEnds++,
    activate(_step, fn) {
      counted.activations++;
      return fn();
    },
  };
  warden.use(faulty);
  warden.use(counter);
  const agent = wrapGraph(bare, { warden });

  it("the answer is the bare graph's; every failure is counted by source, exactly", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(anyValue, nastyString), { maxLength: 3 }),
        fc.oneof(fc.constant(new Error("boom")), anyValue, fc.constant(cyclic())),
        fc.oneof(fc.string(), fc.array(block, { maxLength: 2 }) as fc.Arbitrary<MessageContent>),
        fc.boolean(),
        async (values, error, user, hookFails) => {
          results = values;
          thrown = error;
          hookThrows = hookFails;
          exporter.reset();
          exports = 0;
          redactions = 0;
          for (const k of Object.keys(counted)) counted[k as keyof typeof counted] = 0;
          const before = warden.stats().telemetryErrors;
          const input = { messages: [{ role: "user", content: user }] };
          const expected = await outcomeOf(() => bare.invoke(input));
          const actual = await outcomeOf(() => agent.invoke(input));
          expect(actual).toEqual(expected);
          expect(warden.stats().openTasks).toBe(0);
          const after = warden.stats().telemetryErrors;
          const delta = (source: string) => (after[source] ?? 0) - (before[source] ?? 0);
          const steps = spans().length;
          expect(counted.starts).toBe(steps);
          expect(counted.ends).toBe(steps);
          expect(counted.taskEnds).toBe(1);
          expect(delta("subscriber:faulty")).toBe(
            counted.starts + counted.ends + counted.taskEnds + counted.activations,
          );
          expect(delta("redact")).toBe(redactions);
          expect(exports).toBe(steps);
          expect(delta("exporter:spans")).toBe(steps);
          expect(
            Object.keys(after).filter((s) => !["exporter:spans", "redact", "subscriber:faulty"].includes(s)),
          ).toEqual([]);
          // The redactor failed on every captured value: placeholders only, never the raw text.
          for (const s of spans())
            for (const [k, v] of Object.entries(s.attributes))
              if (CONTENT_KEYS.has(k)) expect(v).toBe("[REDACTION_FAILED]");
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe("the default redactor's cheap tests", () => {
  // Fragments that make or nearly make every kind of secret, glued in any order, raw or as JSON.
  const fragments = [
    "Bearer ",
    "bearer\\n",
    "abcdefghij0123456789ABCDEFGHIJ",
    "sk-",
    "sk_live_",
    "AKIA",
    "ghp_",
    "xoxb-",
    "AIza",
    "hf_",
    "SG.",
    "eyJhbGciOiJIUzI1NiJ9",
    ".",
    "password",
    "api_key",
    "Token",
    "=",
    ": ",
    '"',
    "\\n",
    "\\u00e9",
    "@",
    "ops@example.com",
    "123",
    "4111",
    " ",
    "-",
    "+4",
    "(415) ",
    "555-0132",
    "078-05-1120",
    "DE89",
    "3704 0044 0532 0130 00",
    "0123456789",
    "aB3/",
    "://user:",
    "-----BEGIN RSA PRIVATE KEY-----",
    "x",
  ];
  const text = fc
    .array(fc.oneof(fc.constantFrom(...fragments), fc.string({ maxLength: 6 })), { maxLength: 40 })
    .map((parts) => parts.join(""));

  it("skip a pattern only on text it cannot match: the same result as every pattern applied", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          text,
          text.map((t) => JSON.stringify({ content: t })),
        ),
        (t) => {
          expect(redactSecrets(t, "gen_ai.input.messages")).toBe(redactSecretsUnfiltered(t));
        },
      ),
      { numRuns: 3000 },
    );
  });
});
