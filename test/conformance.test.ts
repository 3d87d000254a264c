/*
 * Conformance with the OpenTelemetry GenAI and MCP semantic conventions: a scripted workload
 * (StateGraph workflows named and not, a ReAct agent, a createAgent agent, an MCP client and a
 * traced MCP server, streaming, failures) runs with content capture on, and every span, event and
 * metric it emits is checked against the conventions' own model files and JSON schemas, vendored
 * verbatim in test/fixtures/semconv (commits in SOURCE.md): names, types, span kinds, instruments,
 * units, requirement levels; the message attributes are validated with ajv against the schemas.
 * Anything not in the conventions must be under `agentwarden.*` or `langgraph.*`.
 *
 * The README's span and metric tables are generated from what this test sees: it fails when they
 * differ; `UPDATE_SEMCONV_TABLES=1 npx vitest run test/conformance.test.ts` rewrites them.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AIMessage, HumanMessage, SystemMessage, ToolMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { Annotation, START, StateGraph } from "@langchain/langgraph";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { loadMcpTools } from "@langchain/mcp-adapters";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { type Attributes, SpanKind, SpanStatusCode } from "@opentelemetry/api";
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { Ajv } from "ajv";
import { createAgent } from "langchain";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { z } from "zod";
import { wrapGraph } from "../adapters/langgraph/index.js";
import { instrumentMcp, traceMcpServer } from "../adapters/mcp/index.js";
import { ScriptedChatModel } from "../adapters/testing/index.js";
import { Warden } from "../src/index.js";
import { SEMCONV_GENAI_COMMIT } from "../src/telemetry/semconv.js";
import { memoryTracing } from "./support/otel.js";

instrumentMcp();

// ---------------------------------------------------------------------------------------------
// The conventions, from the vendored model files

const FIXTURES = join(import.meta.dirname, "fixtures", "semconv");
const yaml = (path: string) => parse(readFileSync(join(FIXTURES, path), "utf8")) as ModelFile;
const json = (path: string) => JSON.parse(readFileSync(join(FIXTURES, path), "utf8")) as object;

type Level = "required" | "conditionally_required" | "recommended" | "opt_in";
interface AttrRef {
  ref?: string;
  ref_group?: string;
  requirement_level?: string | Record<string, string>;
}
interface ModelFile {
  attributes?: Array<{ key: string; type: unknown }>;
  attribute_groups?: Array<{ id: string; attributes: AttrRef[] }>;
  spans?: Array<{ type: string; kind: string; attributes: AttrRef[] }>;
  metrics?: Array<{ name: string; instrument: string; unit: string; attributes: AttrRef[] }>;
}

const files = {
  genaiSpans: yaml("gen-ai/spans.yaml"),
  genaiRegistry: yaml("gen-ai/registry.yaml"),
  tokenMetrics: yaml("gen-ai/token-metrics.yaml"),
  genaiMetrics: yaml("gen-ai/metrics.yaml"),
  mcpSpans: yaml("mcp/spans.yaml"),
  mcpCommon: yaml("mcp/common.yaml"),
  mcpRegistry: yaml("mcp/registry.yaml"),
  mcpMetrics: yaml("mcp/metrics.yaml"),
};

/** Attributes of the core conventions (open-telemetry/semantic-conventions) the files refer to. */
const CORE_ATTRIBUTES: Record<string, string> = {
  "error.type": "string",
  "network.transport": "string",
  "network.protocol.name": "string",
  "network.protocol.version": "string",
  "jsonrpc.request.id": "string",
  "jsonrpc.protocol.version": "string",
  "rpc.response.status_code": "string",
  "server.address": "string",
  "server.port": "int",
  "client.address": "string",
  "client.port": "int",
};

/**
 * Groups the vendored metrics.yaml refers to but that no vendored file defines at its commit
 * (`gen_ai.invoke_agent.duration`, `gen_ai.execute_tool.duration`): their contents as the span
 * definitions give them.
 */
const UNDEFINED_GROUPS: Record<string, AttrRef[]> = {
  "attributes.gen_ai.invoked_agent.internal.common": [
    { ref: "gen_ai.operation.name", requirement_level: "required" },
    { ref: "gen_ai.provider.name", requirement_level: { conditionally_required: "when known" } },
    { ref: "gen_ai.request.model", requirement_level: { conditionally_required: "If available." } },
    { ref: "gen_ai.agent.name", requirement_level: { conditionally_required: "when available" } },
  ],
  "attributes.gen_ai.execute_tool.common": [
    { ref: "gen_ai.operation.name", requirement_level: "required" },
    { ref: "gen_ai.tool.name", requirement_level: "required" },
    { ref: "gen_ai.tool.type", requirement_level: { recommended: "if available" } },
  ],
};

/**
 * Emitted beyond the vendored commit, each for a stated reason; nothing else is.
 * - `execute_tool` spans: `gen_ai.agent.name` and `gen_ai.conversation.id`, conditionally required
 *   on `main` after the vendored commit (issue 14); both registry attributes, type-checked.
 * - `gen_ai.client.inference.duration` / `.time_to_first_chunk`: #521, the inference-only
 *   successors of `gen_ai.client.operation.duration` / `.time_to_first_chunk` (same attributes).
 */
const EXTRA_SPAN_ATTRIBUTES: Record<string, string[]> = {
  "gen_ai.execute_tool.internal": ["gen_ai.agent.name", "gen_ai.conversation.id"],
};
const RENAMED_METRICS: Record<string, string> = {
  "gen_ai.client.inference.duration": "gen_ai.client.operation.duration",
  "gen_ai.client.inference.time_to_first_chunk": "gen_ai.client.operation.time_to_first_chunk",
};

const registry = new Map<string, unknown>();
for (const f of [files.genaiRegistry, files.mcpRegistry])
  for (const a of f.attributes ?? []) registry.set(a.key, a.type);
for (const [k, t] of Object.entries(CORE_ATTRIBUTES)) registry.set(k, t);

const groups = new Map<string, AttrRef[]>(Object.entries(UNDEFINED_GROUPS));
for (const f of Object.values(files)) for (const g of f.attribute_groups ?? []) groups.set(g.id, g.attributes);

/** A signal's attributes with their requirement levels, groups resolved (a later ref overrides). */
function resolve(refs: AttrRef[], into = new Map<string, { level: Level; condition?: string }>()) {
  for (const r of refs) {
    if (r.ref_group) {
      const g = groups.get(r.ref_group);
      if (!g) throw new Error(`unknown attribute group ${r.ref_group}`);
      resolve(g, into);
    } else if (r.ref) {
      const rl = r.requirement_level;
      if (rl === undefined) {
        if (!into.has(r.ref)) into.set(r.ref, { level: "recommended" });
      } else if (typeof rl === "string") into.set(r.ref, { level: rl as Level });
      else {
        const [level, condition] = Object.entries(rl)[0] as [Level, string];
        into.set(r.ref, { level, condition });
      }
    }
  }
  return into;
}

const spanDefs = new Map<string, { kind: string; attributes: ReturnType<typeof resolve> }>();
for (const f of [files.genaiSpans, files.mcpSpans])
  for (const s of f.spans ?? []) spanDefs.set(s.type, { kind: s.kind, attributes: resolve(s.attributes) });

const metricDefs = new Map<string, { instrument: string; unit: string; attributes: ReturnType<typeof resolve> }>();
for (const f of [files.tokenMetrics, files.genaiMetrics, files.mcpMetrics])
  for (const m of f.metrics ?? [])
    metricDefs.set(m.name, { instrument: m.instrument, unit: m.unit, attributes: resolve(m.attributes) });
for (const [name, of] of Object.entries(RENAMED_METRICS)) {
  const d = metricDefs.get(of);
  if (d) metricDefs.set(name, d);
}

const ajv = new Ajv({ strict: false, allErrors: true });
const schemas = {
  "gen_ai.input.messages": ajv.compile(json("gen-ai/gen-ai-input-messages.json")),
  "gen_ai.output.messages": ajv.compile(json("gen-ai/gen-ai-output-messages.json")),
  "gen_ai.system_instructions": ajv.compile(json("gen-ai/gen-ai-system-instructions.json")),
  "gen_ai.tool.definitions": ajv.compile(json("gen-ai/gen-ai-tool-definitions.json")),
} as const;

const EXTENSION = /^(agentwarden|langgraph)\./;

/** Problems with one attribute's value against its registry type. */
function typeProblem(key: string, value: unknown): string | undefined {
  const t = registry.get(key);
  if (t === undefined) return `${key}: not in the conventions' registry`;
  const ok = (() => {
    if (typeof t === "object" && t !== null && "members" in t) {
      if (typeof value !== "string") return false;
      // The enums agentwarden fills from a fixed set must use the defined members.
      if (["gen_ai.operation.name", "mcp.method.name", "gen_ai.token.modality", "gen_ai.output.type"].includes(key))
        return (t as { members: Array<{ value: string }> }).members.some((m) => m.value === value);
      return true;
    }
    switch (t) {
      case "string":
        return typeof value === "string";
      case "int":
        return typeof value === "number" && Number.isInteger(value);
      case "double":
        return typeof value === "number";
      case "boolean":
        return typeof value === "boolean";
      case "string[]":
        return Array.isArray(value) && value.every((v) => typeof v === "string");
      case "any":
        // Structured values are recorded as JSON strings on spans (the registry allows it).
        return typeof value === "string";
      default:
        return false;
    }
  })();
  if (!ok) return `${key}: ${JSON.stringify(value)} is not of type ${JSON.stringify(t)}`;
  const schema = schemas[key as keyof typeof schemas];
  if (schema && !schema(JSON.parse(value as string)))
    return `${key}: does not follow the conventions' JSON schema: ${ajv.errorsText(schema.errors)}`;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The workload

const PNG = "iVBORw0KGgo=";
const search = tool(async ({ q }: { q: string }) => `results for ${q}`, {
  name: "search",
  description: "Searches the web.",
  schema: z.object({ q: z.string() }),
});
const broken = tool(
  async (): Promise<string> => {
    throw new RangeError("quota exceeded");
  },
  { name: "broken", description: "Always fails.", schema: z.object({}) },
);

/** Replies with two searches (and a failing call) first, then an answer, with usage and cache figures. */
function agentModel() {
  return new ScriptedChatModel({
    script: (messages) =>
      messages.some((m) => m.getType() === "tool")
        ? { content: "Paris has 2.1M people.", usage: { input: 220, output: 12 }, finishReason: "stop" }
        : {
            content: "",
            toolCalls: [
              { name: "search", args: { q: "Paris population" }, id: "call_a" },
              { name: "broken", args: {}, id: "call_b" },
            ],
            usage: { input: 100, output: 30, cacheRead: 64, cacheWrite: 16 },
            finishReason: "tool_calls",
          },
  });
}

async function mcpPair(provider: ReturnType<typeof memoryTracing>["provider"]) {
  const server = new McpServer({ name: "kb", version: "1.0.0" });
  server.registerTool(
    "lookup",
    { description: "Looks up a key.", inputSchema: { key: z.string() } },
    async ({ key }) =>
      key === "missing"
        ? { content: [{ type: "text", text: `no entry ${key}` }], isError: true }
        : { content: [{ type: "text", text: `value of ${key}` }] },
  );
  server.registerPrompt("summarize", { description: "Summarizes.", argsSchema: { text: z.string() } }, ({ text }) => ({
    messages: [{ role: "user", content: { type: "text", text: `Summarize: ${text}` } }],
  }));
  server.registerResource("notes", "file:///notes.txt", { mimeType: "text/plain" }, async (uri) => ({
    contents: [{ uri: uri.href, text: "tides" }],
  }));
  traceMcpServer(server, { tracerProvider: provider });
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(b);
  const client = new Client({ name: "agent", version: "1.0.0" });
  await client.connect(a);
  return { server, client };
}

interface Seen {
  spans: readonly ReadableSpan[];
  metrics: Array<{ name: string; unit: string; kind: string; points: Attributes[]; values: number[] }>;
  streamed: Set<string>;
}

async function runWorkload(): Promise<Seen> {
  const { provider, spans } = memoryTracing();
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const warden = new Warden({ tracerProvider: provider, meterProvider, captureContent: true, recovery: false });
  const { server, client } = await mcpPair(provider);
  const streamed = new Set<string>();

  // 1. A named StateGraph: a model call with system instructions, bound tools, request parameters
  //    and every content block kind; a streamed call; a call whose provider reports no usage; MCP
  //    requests made directly from a node (a tool call, an isError tool call, a prompt, a
  //    resource, a JSON-RPC error).
  const contentModel = new ScriptedChatModel({
    model: "gpt-4o",
    script: [
      {
        content: [
          { type: "reasoning", reasoning: "The user sent a chart." },
          { type: "text", text: "A rising line." },
        ],
        usage: { input: 40, output: 8 },
        finishReason: "stop",
      },
    ],
  });
  const streamModel = new ScriptedChatModel({
    model: "gpt-4o-stream",
    script: [{ content: "Streamed answer.", usage: { input: 12, output: 3 } }],
  });
  const silentModel = new ScriptedChatModel({ model: "gpt-4o-silent", script: [{ content: "ok", usage: null }] });
  const failingModel = new ScriptedChatModel({
    model: "gpt-4o-down",
    script: [{ error: Object.assign(new Error("overloaded"), { name: "APIConnectionError" }) }],
  });
  const S = Annotation.Root({ out: Annotation<string>() });
  const pipeline = new StateGraph(S)
    .addNode("describe", async () => {
      const reply = await contentModel.invoke(
        [
          new SystemMessage("You describe charts."),
          new HumanMessage({
            content: [
              { type: "text", text: "What does this show?" },
              { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } },
              { type: "image_url", image_url: { url: "https://example.com/chart.png" } },
              { type: "file", source_type: "id", id: "file-123", mime_type: "application/pdf" },
              { type: "audio", source_type: "base64", data: "UklGRg==", mime_type: "audio/wav" },
            ],
          }),
          new AIMessage({
            content: "",
            tool_calls: [{ name: "search", args: { q: "chart" }, id: "call_0", type: "tool_call" }],
          }),
          new ToolMessage({ content: "a chart of sales", tool_call_id: "call_0" }),
        ],
        {
          tools: [{ type: "function", function: { name: "search", description: "Searches.", parameters: {} } }],
          temperature: 0.2,
          maxTokens: 256,
          stop: ["END"],
        } as never,
      );
      // Structured output: the request includes an output format.
      await contentModel.invoke("Answer in JSON.", { response_format: { type: "json_object" } } as never);
      return { out: String(reply.text) };
    })
    .addNode("stream", async () => {
      let text = "";
      for await (const chunk of await streamModel.stream("Say something.")) text += String(chunk.content);
      streamed.add("chat gpt-4o-stream");
      await silentModel.invoke("Are you there?");
      await failingModel.invoke("Still there?").catch(() => undefined);
      return { out: text };
    })
    .addNode("mcp", async () => {
      await client.callTool({ name: "lookup", arguments: { key: "k1" } });
      await client.callTool({ name: "lookup", arguments: { key: "missing" } });
      await client.getPrompt({ name: "summarize", arguments: { text: "moon" } });
      await client.readResource({ uri: "file:///notes.txt" });
      await client.listTools();
      await client.getPrompt({ name: "nope", arguments: {} }).catch(() => undefined);
      return { out: "mcp" };
    })
    .addEdge(START, "describe")
    .addEdge("describe", "stream")
    .addEdge("stream", "mcp")
    .compile({ name: "pipeline" });
  await wrapGraph(pipeline, { warden }).invoke({}, { configurable: { thread_id: "thread-1" } });

  // 2. The same kind of graph without a name of its own: no meaningless name.
  const anonymous = new StateGraph(S)
    .addNode("only", async () => ({ out: "x" }))
    .addEdge(START, "only")
    .compile();
  await wrapGraph(anonymous, { warden }).invoke({});

  // 3. A ReAct agent: two tool calls in parallel (one fails), an MCP tool through the adapters.
  const mcpTools = await loadMcpTools("kb", client as never);
  const react = createReactAgent({ llm: agentModel(), tools: [search, broken, ...mcpTools], name: "researcher" });
  await wrapGraph(react, { warden }).invoke(
    { messages: [{ role: "user", content: "How many people live in Paris?" }] },
    { configurable: { thread_id: "thread-2" } },
  );
  const mcpAgent = createReactAgent({
    llm: new ScriptedChatModel({
      script: (messages) =>
        messages.some((m) => m.getType() === "tool")
          ? { content: "done" }
          : { toolCalls: [{ name: "lookup", args: { key: "k2" }, id: "call_m" }] },
    }),
    tools: mcpTools,
    name: "librarian",
  });
  await wrapGraph(mcpAgent, { warden }).invoke({ messages: [{ role: "user", content: "k2?" }] });

  // 4. A langchain createAgent agent with a system prompt.
  const helper = createAgent({
    model: agentModel(),
    tools: [search, broken],
    name: "helper",
    systemPrompt: "Be brief.",
  });
  await wrapGraph(helper, { warden }).invoke({ messages: [{ role: "user", content: "Paris?" }] });

  await client.close();
  await server.close();
  await reader.forceFlush();
  const metrics: Seen["metrics"] = [];
  for (const rm of exporter.getMetrics())
    for (const sm of rm.scopeMetrics)
      for (const m of sm.metrics)
        metrics.push({
          name: m.descriptor.name,
          unit: m.descriptor.unit,
          kind:
            m.dataPointType === DataPointType.HISTOGRAM
              ? "histogram"
              : m.dataPointType === DataPointType.SUM && m.isMonotonic
                ? "counter"
                : "other",
          points: m.dataPoints.map((p) => p.attributes),
          values: m.dataPoints.map((p) => (typeof p.value === "number" ? p.value : Number.NaN)),
        });
  await meterProvider.shutdown();
  return { spans: spans(), metrics, streamed };
}

// ---------------------------------------------------------------------------------------------
// Classifying what was emitted

const KINDS: Record<number, string> = {
  [SpanKind.INTERNAL]: "internal",
  [SpanKind.CLIENT]: "client",
  [SpanKind.SERVER]: "server",
};

/** The convention span type(s) a span implements, or `extension` (a node span, agentwarden's own). */
function spanTypes(s: ReadableSpan): string[] | "extension" {
  const a = s.attributes;
  const op = a["gen_ai.operation.name"];
  if (a["mcp.method.name"] !== undefined) {
    if (s.kind === SpanKind.SERVER) return ["mcp.server"];
    if (op !== "execute_tool") return ["mcp.client"];
    // A tool call made inside a LangChain tool: the execute_tool span with the MCP client attributes
    // on it; one made directly: an MCP client span, compatible with execute_tool spans.
    return s.kind === SpanKind.INTERNAL
      ? ["gen_ai.execute_tool.internal", "mcp.client"]
      : ["mcp.client", "gen_ai.execute_tool.internal"];
  }
  switch (op) {
    case "chat":
      return ["gen_ai.inference.client"];
    case "invoke_agent":
      return ["gen_ai.invoke_agent.internal"];
    case "invoke_workflow":
      return ["gen_ai.invoke_workflow.internal"];
    case "execute_tool":
      return ["gen_ai.execute_tool.internal"];
    default:
      return "extension";
  }
}

/** The span name the conventions give a span of that type. */
function expectedName(s: ReadableSpan, types: string[]): string {
  const a = s.attributes;
  const withTarget = (op: unknown, target: unknown) => (target === undefined ? String(op) : `${op} ${target}`);
  if (types[0] === "mcp.client" || types[0] === "mcp.server")
    return withTarget(a["mcp.method.name"], a["gen_ai.tool.name"] ?? a["gen_ai.prompt.name"]);
  switch (types[0]) {
    case "gen_ai.inference.client":
      return withTarget(a["gen_ai.operation.name"], a["gen_ai.request.model"]);
    case "gen_ai.invoke_agent.internal":
      return withTarget("invoke_agent", a["gen_ai.agent.name"]);
    case "gen_ai.invoke_workflow.internal":
      return withTarget("invoke_workflow", a["gen_ai.workflow.name"]);
    default:
      return withTarget("execute_tool", a["gen_ai.tool.name"]);
  }
}

/** Conditions of the conditionally required attributes, as the workload makes them hold. */
function conditionHolds(key: string, s: ReadableSpan, seen: Seen): boolean | undefined {
  const a = s.attributes;
  const failed = s.status.code === SpanStatusCode.ERROR;
  const method = a["mcp.method.name"];
  switch (key) {
    case "error.type":
      return failed;
    case "gen_ai.request.stream":
      return seen.streamed.has(s.name);
    case "gen_ai.request.model":
      return true; // every model call here knows its model
    case "gen_ai.output.type":
      return s.name === "chat gpt-4o" && String(a["gen_ai.input.messages"]).includes("Answer in JSON.");
    case "gen_ai.conversation.id":
      return conversationOf(s, seen) !== undefined;
    case "gen_ai.agent.name":
      return agentOf(s, seen) !== undefined;
    case "gen_ai.workflow.name":
      return s.name !== "invoke_workflow";
    case "mcp.resource.uri":
      return typeof method === "string" && method.startsWith("resources/") && method !== "resources/list";
    case "jsonrpc.request.id":
      return method !== undefined && method !== "initialize";
    case "gen_ai.tool.name":
      return method === "tools/call";
    case "gen_ai.prompt.name":
      return method === "prompts/get";
    case "rpc.response.status_code":
      // The one JSON-RPC error response of the workload (-32602, an unknown prompt).
      return s.name === "prompts/get nope";
    default:
      return undefined; // not applicable in this workload (seed, choice count, output type, ...)
  }
}

const byId = (seen: Seen) => new Map(seen.spans.map((s) => [s.spanContext().spanId, s]));
function ancestors(s: ReadableSpan, seen: Seen): ReadableSpan[] {
  const ids = byId(seen);
  const out: ReadableSpan[] = [];
  for (let p = ids.get(s.parentSpanContext?.spanId ?? ""); p; p = ids.get(p.parentSpanContext?.spanId ?? ""))
    out.push(p);
  return out;
}
function conversationOf(s: ReadableSpan, seen: Seen): unknown {
  if (s.kind === SpanKind.SERVER || s.attributes["mcp.method.name"] !== undefined) {
    if (s.attributes["gen_ai.operation.name"] !== "execute_tool") return undefined;
  }
  // The run's thread id: on an agent span as gen_ai.conversation.id, on a workflow span as langgraph.thread_id.
  const run = ancestors(s, seen).find(
    (p) => p.attributes["gen_ai.conversation.id"] !== undefined || p.attributes["langgraph.thread_id"] !== undefined,
  );
  return run?.attributes["gen_ai.conversation.id"] ?? run?.attributes["langgraph.thread_id"];
}
function agentOf(s: ReadableSpan, seen: Seen): unknown {
  if (s.attributes["gen_ai.operation.name"] === "invoke_agent") return s.name.split(" ")[1];
  if (s.attributes["gen_ai.operation.name"] !== "execute_tool" || s.kind === SpanKind.SERVER) return undefined;
  return ancestors(s, seen).find((p) => p.attributes["gen_ai.operation.name"] === "invoke_agent")?.attributes[
    "gen_ai.agent.name"
  ];
}

/** Every way the emitted telemetry departs from the conventions (empty when it conforms). */
function spanProblems(seen: Seen): string[] {
  const problems: string[] = [];
  for (const s of seen.spans) {
    const types = spanTypes(s);
    const where = `span "${s.name}"`;
    for (const e of s.events)
      if (!EXTENSION.test(e.name)) problems.push(`${where}: event ${e.name} not in the conventions`);
    if (types === "extension") {
      for (const k of Object.keys(s.attributes))
        if (!EXTENSION.test(k)) problems.push(`${where}: ${k} on a span the conventions do not define`);
      continue;
    }
    const defs = types.map((t) => {
      const d = spanDefs.get(t);
      if (!d) throw new Error(`no span definition ${t}`);
      return d;
    });
    if (KINDS[s.kind] !== defs[0]?.kind)
      problems.push(`${where}: kind ${KINDS[s.kind]}, the conventions say ${defs[0]?.kind}`);
    const name = expectedName(s, types);
    if (s.name !== name) problems.push(`${where}: the conventions name it "${name}"`);
    const allowed = new Map<string, { level: Level; condition?: string }>();
    for (const d of defs) for (const [k, v] of d.attributes) allowed.set(k, v);
    for (const t of types) for (const k of EXTRA_SPAN_ATTRIBUTES[t] ?? []) allowed.set(k, { level: "recommended" });
    for (const [k, v] of Object.entries(s.attributes)) {
      if (EXTENSION.test(k)) continue;
      if (!allowed.has(k)) {
        problems.push(`${where}: ${k} is not an attribute of ${types.join(" + ")}`);
        continue;
      }
      const p = typeProblem(k, v);
      if (p) problems.push(`${where}: ${p}`);
    }
    for (const [k, { level }] of allowed) {
      const present = s.attributes[k] !== undefined;
      if (level === "required" && !present) problems.push(`${where}: required ${k} missing`);
      if (level === "conditionally_required") {
        const holds = conditionHolds(k, s, seen);
        if (holds === true && !present) problems.push(`${where}: conditionally required ${k} missing`);
        if (holds === false && present && (k === "error.type" || k === "gen_ai.request.stream"))
          problems.push(`${where}: ${k} set though its condition does not hold`);
      }
    }
    // "If and only if": error.type with status ERROR, and the reverse.
    if (s.status.code === SpanStatusCode.ERROR && s.attributes["error.type"] === undefined)
      problems.push(`${where}: failed without error.type`);
  }
  return problems;
}

function metricProblems(seen: Seen): string[] {
  const problems: string[] = [];
  for (const m of seen.metrics) {
    const where = `metric ${m.name}`;
    if (m.name.startsWith("agentwarden.")) continue; // agentwarden's own, attributes included
    const d = metricDefs.get(m.name);
    if (!d) {
      problems.push(`${where}: not in the conventions`);
      continue;
    }
    if (d.instrument !== m.kind) problems.push(`${where}: a ${m.kind}, the conventions say ${d.instrument}`);
    if (d.unit !== m.unit) problems.push(`${where}: unit ${m.unit}, the conventions say ${d.unit}`);
    for (const point of m.points) {
      for (const [k, v] of Object.entries(point)) {
        if (!d.attributes.has(k)) problems.push(`${where}: ${k} is not one of its attributes`);
        else {
          const p = typeProblem(k, v);
          if (p) problems.push(`${where}: ${p}`);
        }
      }
      for (const [k, { level }] of d.attributes)
        if (level === "required" && point[k] === undefined) problems.push(`${where}: required ${k} missing`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// The README tables, from what was seen

function tables(seen: Seen): string {
  const rows = new Map<string, { kind: string; attrs: Set<string> }>();
  const spanKey = (s: ReadableSpan) => {
    const t = spanTypes(s);
    if (t === "extension") return s.attributes["langgraph.node"] !== undefined ? "`{node}`" : undefined;
    const a = s.attributes;
    if (t[0] === "mcp.server" || t[0] === "mcp.client")
      return a["gen_ai.tool.name"] !== undefined
        ? "`{mcp.method.name} {gen_ai.tool.name}`"
        : a["gen_ai.prompt.name"] !== undefined
          ? "`{mcp.method.name} {gen_ai.prompt.name}`"
          : "`{mcp.method.name}`";
    return `\`${expectedName(s, t)
      .replace(String(a["gen_ai.request.model"]), "{gen_ai.request.model}")
      .replace(/^(invoke_agent|invoke_workflow|execute_tool) .+$/, (_m, op: string) =>
        op === "invoke_agent"
          ? `${op} {gen_ai.agent.name}`
          : op === "invoke_workflow"
            ? `${op} {gen_ai.workflow.name}`
            : `${op} {gen_ai.tool.name}`,
      )}\``;
  };
  for (const s of seen.spans) {
    const key = spanKey(s);
    if (key === undefined) continue;
    const t = spanTypes(s);
    const label = `${t === "extension" ? "graph node (extension)" : t.join(" + ")}`;
    const id = `${label}|${key}|${KINDS[s.kind]}`;
    const row = rows.get(id) ?? { kind: KINDS[s.kind] ?? "", attrs: new Set<string>() };
    for (const k of Object.keys(s.attributes)) row.attrs.add(k);
    rows.set(id, row);
  }
  const spanLines = [...rows.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([id, r]) => {
      const [label, name] = id.split("|");
      return `| ${label} | ${name} | ${r.kind.toUpperCase()} | ${[...r.attrs]
        .sort()
        .map((k) => `\`${k}\``)
        .join(", ")} |`;
    });
  const metricLines = seen.metrics
    .filter((m) => !m.name.startsWith("agentwarden."))
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((m) => {
      const attrs = new Set<string>();
      for (const p of m.points) for (const k of Object.keys(p)) attrs.add(k);
      return `| \`${m.name}\` | ${m.kind} | \`${m.unit}\` | ${[...attrs]
        .sort()
        .map((k) => `\`${k}\``)
        .join(", ")} |`;
    });
  return [
    `<!-- semconv-tables: generated by test/conformance.test.ts from the spans and metrics of its workload; conventions: open-telemetry/semantic-conventions-genai ${SEMCONV_GENAI_COMMIT} (files and commits: test/fixtures/semconv/SOURCE.md) -->`,
    "",
    "| convention span | name | kind | attributes seen |",
    "| --- | --- | --- | --- |",
    ...spanLines,
    "",
    "| metric | instrument | unit | attributes seen |",
    "| --- | --- | --- | --- |",
    ...metricLines,
    "",
    "<!-- /semconv-tables -->",
  ].join("\n");
}

// ---------------------------------------------------------------------------------------------

describe("conformance with the GenAI and MCP semantic conventions (vendored model files)", () => {
  let seen: Seen;
  beforeAll(async () => {
    seen = await runWorkload();
  }, 60_000);

  it("the model files resolve: every referenced group is defined, every attribute typed", () => {
    expect(spanDefs.size).toBeGreaterThanOrEqual(10);
    for (const d of [...spanDefs.values(), ...metricDefs.values()])
      for (const k of d.attributes.keys())
        if (
          !registry.has(k) &&
          !k.startsWith("openai.") &&
          !k.startsWith("aws.") &&
          !k.startsWith("azure.") &&
          k !== "gen_ai.prompt.variable"
        )
          expect.fail(`untyped ${k}`);
  });

  it("the workload emitted every kind of span the conventions define for it", () => {
    const types = new Set(seen.spans.flatMap((s) => (spanTypes(s) === "extension" ? [] : (spanTypes(s) as string[]))));
    expect([...types].sort()).toEqual([
      "gen_ai.execute_tool.internal",
      "gen_ai.inference.client",
      "gen_ai.invoke_agent.internal",
      "gen_ai.invoke_workflow.internal",
      "mcp.client",
      "mcp.server",
    ]);
    expect(seen.spans.map((s) => s.name)).toEqual(
      expect.arrayContaining([
        "invoke_workflow pipeline",
        "invoke_workflow",
        "invoke_agent researcher",
        "invoke_agent helper",
        "chat gpt-4o-stream",
        "execute_tool lookup",
        "tools/call lookup",
        "prompts/get summarize",
        "resources/read",
      ]),
    );
  });

  it("every span: names, kinds, attribute names and types, required and conditionally required attributes", () => {
    expect(spanProblems(seen)).toEqual([]);
  });

  it("the message attributes follow the conventions' JSON schemas, with every kind of part the workload sent", () => {
    const parts = new Set<string>();
    const roles = new Set<string>();
    let checked = 0;
    for (const s of seen.spans)
      for (const key of Object.keys(schemas)) {
        const v = s.attributes[key];
        if (v === undefined) continue;
        checked++;
        expect(typeProblem(key, v)).toBeUndefined();
        const value = JSON.parse(String(v)) as Array<{ role?: string; type?: string; parts?: Array<{ type: string }> }>;
        for (const m of value) {
          if (m.role) roles.add(m.role);
          for (const p of m.parts ?? []) parts.add(p.type);
        }
      }
    expect(checked).toBeGreaterThan(10);
    // System messages at the head of a request are its system instructions, not input messages.
    expect([...roles].sort()).toEqual(["assistant", "tool", "user"]);
    expect([...parts].sort()).toEqual(["blob", "file", "reasoning", "text", "tool_call", "tool_call_response", "uri"]);
    const describe = seen.spans.find((s) => s.name === "chat gpt-4o");
    expect(JSON.parse(String(describe?.attributes["gen_ai.system_instructions"]))).toEqual([
      { type: "text", content: "You describe charts." },
    ]);
    expect(JSON.parse(String(describe?.attributes["gen_ai.tool.definitions"]))).toEqual([
      { type: "function", name: "search" },
    ]);
    expect(JSON.parse(String(describe?.attributes["gen_ai.input.messages"]))).toEqual([
      {
        role: "user",
        parts: [
          { type: "text", content: "What does this show?" },
          { type: "blob", modality: "image", mime_type: "image/png", content: PNG },
          { type: "uri", modality: "image", mime_type: null, uri: "https://example.com/chart.png" },
          { type: "file", modality: "document", mime_type: "application/pdf", file_id: "file-123" },
          { type: "blob", modality: "audio", mime_type: "audio/wav", content: "UklGRg==" },
        ],
      },
      { role: "assistant", parts: [{ type: "tool_call", id: "call_0", name: "search", arguments: { q: "chart" } }] },
      { role: "tool", parts: [{ type: "tool_call_response", id: "call_0", response: "a chart of sales" }] },
    ]);
    expect(JSON.parse(String(describe?.attributes["gen_ai.output.messages"]))).toEqual([
      {
        role: "assistant",
        parts: [
          { type: "reasoning", content: "The user sent a chart." },
          { type: "text", content: "A rising line." },
        ],
        finish_reason: "stop",
      },
    ]);
    expect(describe?.attributes).toMatchObject({
      "gen_ai.request.temperature": 0.2,
      "gen_ai.request.max_tokens": 256,
      "gen_ai.request.stop_sequences": ["END"],
      "gen_ai.conversation.id": "thread-1",
    });
  });

  it("every metric: names, instruments, units, attribute names and types, required attributes", () => {
    expect(metricProblems(seen)).toEqual([]);
    const names = seen.metrics.map((m) => m.name);
    expect(names).toEqual(
      expect.arrayContaining([
        "gen_ai.client.inference.duration",
        "gen_ai.client.inference.usage.input_tokens",
        "gen_ai.client.inference.usage.output_tokens",
        "gen_ai.client.inference.usage.cache_read.input_tokens",
        "gen_ai.client.inference.usage.cache_write.input_tokens",
        "gen_ai.client.inference.usage.reasoning.output_tokens",
        "gen_ai.client.inference.operation.input_tokens",
        "gen_ai.client.inference.operation.output_tokens",
        "gen_ai.client.inference.time_to_first_chunk",
        "gen_ai.execute_tool.duration",
        "gen_ai.invoke_agent.duration",
        "gen_ai.workflow.duration",
        "mcp.client.operation.duration",
      ]),
    );
    // A call without reported usage is counted (0, modality unknown), not skipped.
    const input = seen.metrics.find((m) => m.name === "gen_ai.client.inference.usage.input_tokens");
    const i = input?.points.findIndex((p) => p["gen_ai.request.model"] === "gpt-4o-silent") ?? -1;
    expect(i).toBeGreaterThanOrEqual(0);
    expect([input?.values[i], input?.points[i]?.["gen_ai.token.modality"]]).toEqual([0, "unknown"]);
  });

  it("the README's span and metric tables are the ones this workload produces", () => {
    const readmePath = join(import.meta.dirname, "..", "README.md");
    const readme = readFileSync(readmePath, "utf8");
    const generated = tables(seen);
    const re = /<!-- semconv-tables:[\s\S]*?<!-- \/semconv-tables -->/;
    if (process.env.UPDATE_SEMCONV_TABLES === "1") writeFileSync(readmePath, readme.replace(re, generated));
    // The formatter pads Markdown tables: compare cell by cell, not space by space.
    const cells = (text: string | undefined) => (text ?? "").replace(/ *\| */g, "|").replace(/\|-+(?=\|)/g, "|-");
    expect(cells(readFileSync(readmePath, "utf8").match(re)?.[0])).toBe(cells(generated));
  });
});

describe("where the conventions are still moving: the alternative is one option away", () => {
  it('semconv: { nodeSpans: "run_step", invocationDuration: "invocation" } emits the open proposals instead', async () => {
    const { provider, spans } = memoryTracing();
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    const meterProvider = new MeterProvider({ readers: [reader] });
    const warden = new Warden({
      tracerProvider: provider,
      meterProvider,
      semconv: { nodeSpans: "run_step", invocationDuration: "invocation" },
    });
    const S = Annotation.Root({ out: Annotation<string>() });
    const inner = new StateGraph(S)
      .addNode("leaf", async () => ({ out: "x" }))
      .addEdge(START, "leaf")
      .compile({ name: "inner" });
    const outer = new StateGraph(S).addNode("step", inner).addEdge(START, "step").compile({ name: "outer" });
    await wrapGraph(outer, { warden }).invoke({});
    expect(
      spans()
        .map((s) => s.name)
        .sort(),
    ).toEqual(["invoke_workflow inner", "invoke_workflow outer", "run_step leaf", "run_step step"]);
    expect(spans().find((s) => s.name === "run_step leaf")?.attributes).toMatchObject({
      "gen_ai.operation.name": "run_step",
      "gen_ai.step.name": "leaf",
      "langgraph.node": "leaf",
    });
    await reader.forceFlush();
    const metrics = exporter.getMetrics().flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics));
    const names = metrics.map((m) => m.descriptor.name);
    expect(names).toContain("gen_ai.invocation.duration");
    expect(names).not.toContain("gen_ai.workflow.duration");
    const invocation = metrics.find((m) => m.descriptor.name === "gen_ai.invocation.duration");
    expect(
      invocation?.dataPoints
        .map((p) => p.attributes)
        .sort((a, b) => String(a["gen_ai.workflow.name"]).localeCompare(String(b["gen_ai.workflow.name"]))),
    ).toEqual([
      {
        "gen_ai.operation.name": "invoke_workflow",
        "gen_ai.workflow.name": "inner",
        "gen_ai.invocation.is_nested": true,
      },
      {
        "gen_ai.operation.name": "invoke_workflow",
        "gen_ai.workflow.name": "outer",
        "gen_ai.invocation.is_nested": false,
      },
    ]);
    await meterProvider.shutdown();
  });
});
