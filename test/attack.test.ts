import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tool } from "@langchain/core/tools";
import { Annotation, START, StateGraph } from "@langchain/langgraph";
import { createReactAgent, ToolNode } from "@langchain/langgraph/prebuilt";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import {
  CallToolRequestSchema,
  ListToolsRequestSchema,
  ListToolsResultSchema,
  McpError,
  ReadResourceRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { SpanKind } from "@opentelemetry/api";
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { wrapGraph } from "../adapters/langgraph/index.js";
import { instrumentMcp, traceMcpServer } from "../adapters/mcp/index.js";
import { ScriptedChatModel } from "../adapters/testing/index.js";
import {
  compareStores,
  formatReport,
  formatSteps,
  readStore,
  redactSecrets,
  reportStore,
  serveDashboard,
  type TaskSummary,
  Warden,
} from "../src/index.js";
import { user } from "./support/agents.js";
import { memoryTracing, useContextManager } from "./support/otel.js";
import { generatedTask } from "./support/stores.js";

instrumentMcp();

// C0 controls (ESC, BEL, ...) and C1 controls: what a terminal acts on instead of printing.
// biome-ignore lint/suspicious/noControlCharactersInRegex: the test looks for exactly these
const TERMINAL_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
/** The control characters in `text`, JSON-escaped (a failing assertion must not drive the terminal itself). */
const controls = (text: string) => (text.match(TERMINAL_CONTROL) ?? []).map((c) => JSON.stringify(c));

describe("CLI output of names and errors an agent or MCP server chose", () => {
  // OSC 0 retitles the terminal, CSI 2J clears the screen, CSI 31m paints everything after red.
  const ESC = "\u001b]0;pwned\u0007\u001b[2J\u001b[31m";

  it("agentwarden report and the step tree carry no terminal escape sequences from tool, model, agent names or errors", async () => {
    const store = join(mkdtempSync(join(tmpdir(), "aw-attack-cli-")), "runs.jsonl");
    const warden = new Warden({ tracing: false, store });
    const name = `lookup${ESC}`;
    const evil = tool(
      async () => {
        throw new Error(`upstream said ${ESC}`);
      },
      { name, description: "Looks up.", schema: z.object({ q: z.string() }) },
    );
    const llm = new ScriptedChatModel({
      model: `model${ESC}`,
      script: [{ toolCalls: [{ name, args: { q: "a" } }] }, { content: "done" }],
    });
    await wrapGraph(createReactAgent({ llm, tools: new ToolNode([evil]), name: `agent${ESC}` }), { warden }).invoke(
      user("go"),
    );
    await warden.shutdown();

    const report = formatReport((await reportStore(store)).snapshot);
    expect(report).toContain("lookup"); // the row is there...
    expect(controls(report)).toEqual([]); // ...without the escapes
    const tree = formatSteps(readStore(store).summaries[0] as TaskSummary);
    expect(tree).toContain("upstream said");
    expect(controls(tree)).toEqual([]);
  });

  it("agentwarden report's list of unreadable lines does not echo a line's raw bytes (JSON.parse quotes them)", async () => {
    const store = join(mkdtempSync(join(tmpdir(), "aw-attack-cli-")), "runs.jsonl");
    writeFileSync(store, "");
    // A line another writer appended (or a corrupt one): V8's JSON.parse error quotes its text.
    appendFileSync(store, `{"v":1,"agent":${ESC}}\n`);
    const read = await reportStore(store);
    expect(read.skippedCount).toBe(1);
    const report = formatReport(read.snapshot, read.skipped, read.skippedCount);
    expect(report).toContain("line 1: not JSON");
    expect(controls(report)).toEqual([]);
  });
});

/**
 * Connects a client to `server` over an in-memory transport and runs `work` with it as the only
 * node of a wrapped one-node graph (an agent task calling the server), then closes both ends.
 */
async function inMcpTask(warden: Warden, server: Server, name: string, work: (client: Client) => Promise<void>) {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: "c", version: "1" });
  await client.connect(clientSide);
  const graph = new StateGraph(Annotation.Root({ out: Annotation<string>() }))
    .addNode("work", async () => {
      await work(client);
      return { out: "done" };
    })
    .addEdge(START, "work")
    .compile({ name });
  await wrapGraph(graph, { warden }).invoke({});
  await client.close();
  await server.close();
}

describe("metric series an MCP server chooses", () => {
  it("JSON-RPC error codes from a hostile MCP server are bounded by maxKeys on the MCP duration histogram", async () => {
    useContextManager();
    const MAX_KEYS = 3;
    const N = 20;
    const server = new Server({ name: "hostile", version: "1.0.0" }, { capabilities: { tools: {} } });
    server.setRequestHandler(ListToolsRequestSchema, async () => ({
      tools: [{ name: "t", description: "t", inputSchema: { type: "object" } }],
    }));
    let code = 1000;
    server.setRequestHandler(CallToolRequestSchema, async () => {
      code++;
      throw new McpError(code, "nope");
    });
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
    const meterProvider = new MeterProvider({ readers: [reader] });
    const warden = new Warden({ tracing: false, meterProvider, metrics: { maxKeys: MAX_KEYS } });
    await inMcpTask(warden, server, "mcp_work", async (client) => {
      for (let i = 0; i < N; i++) await client.callTool({ name: "t", arguments: {} }).catch(() => undefined);
    });
    await reader.forceFlush();
    const metrics = exporter.getMetrics().flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics));
    const mcp = metrics.find((m) => m.descriptor.name === "mcp.client.operation.duration");
    expect(mcp).toBeDefined();
    const errorTypes = new Set(mcp?.dataPoints.map((p) => p.attributes["error.type"]));
    const codes = new Set(mcp?.dataPoints.map((p) => p.attributes["rpc.response.status_code"]));
    // error.type (the same code) is capped: 3 codes and _other...
    expect(errorTypes.size).toBe(MAX_KEYS + 1);
    // ...but the same value under rpc.response.status_code opens a series per code.
    expect(codes.size).toBeLessThanOrEqual(MAX_KEYS + 1);
    await meterProvider.shutdown();
  });
});

describe("captured content: a tool returning an object (its ToolMessage content is JSON, serialised again)", () => {
  const PEM_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj";
  const PEM = `-----BEGIN PRIVATE KEY-----\n${PEM_BODY}\n-----END PRIVATE KEY-----`;

  async function run(result: Record<string, unknown>) {
    const { provider, spans } = memoryTracing();
    const warden = new Warden({ tracerProvider: provider, captureContent: true });
    const getKey = tool(async () => result, {
      name: "get_key",
      description: "Fetches a deploy key.",
      schema: z.object({ q: z.string() }),
    });
    const llm = new ScriptedChatModel({
      model: "test-model",
      script: [{ toolCalls: [{ name: "get_key", args: { q: "a" } }] }, { content: "done" }],
    });
    await wrapGraph(createReactAgent({ llm, tools: [getKey], name: "deployer" }), { warden }).invoke(user("go"));
    const chats = spans().filter((x) => x.name === "chat test-model");
    const toolSpan = spans().find((x) => x.name === "execute_tool get_key");
    return {
      result: String(toolSpan?.attributes["gen_ai.tool.call.result"]),
      // The second model call reads the tool's answer back.
      input: String(chats[1]?.attributes["gen_ai.input.messages"]),
    };
  }

  it("a PEM private key in the result is masked whole in the next model call's gen_ai.input.messages", async () => {
    const { result, input } = await run({ id: "k1", key: PEM });
    expect(result).not.toContain(PEM_BODY); // the tool span holds it once serialised: masked
    expect(input).toContain("[REDACTED_PRIVATE_KEY]");
    expect(input).not.toContain(PEM_BODY); // serialised twice (`\\n`): the body after the header is kept
  });

  it("a quoted password assignment inside a string of the result is masked in gen_ai.input.messages", async () => {
    const { result, input } = await run({ env: 'DB_PASSWORD="hunter2Hunter2"' });
    expect(result).not.toContain("hunter2Hunter2");
    expect(input).not.toContain("hunter2Hunter2"); // `DB_PASSWORD=\\\"hunter2...`: not matched at all
  });
});

describe("the default redactor on the kinds it lists (error messages are always redacted)", () => {
  // README: "the value of `password=`, `secret:`, `api_key=`, `"access_token": "…"` and the like";
  // "`user:password@` in URLs". Each secret below is of a listed kind; the fragment must not survive.
  const CASES: ReadonlyArray<readonly [what: string, text: string, fragment: string]> = [
    ["a quoted passphrase (JSON)", '{"password": "correct horse battery staple"}', "horse battery staple"],
    ["a quoted passphrase (YAML-ish)", "password: 'correct horse battery staple'", "horse battery staple"],
    [
      "a password-only URL (Redis, as docker-compose names the host)",
      "connect ECONNREFUSED redis://:s3cretPassw0rd@redis:6379/0",
      "s3cretPassw0rd",
    ],
    ["a bare token assignment", '{"token": "tok_9f8e7d6c5b4a39281706"}', "tok_9f8e7d6c5b4a39281706"],
    ["a camelCase secret key", '{"clientSecret": "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2"}', "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2"],
  ];

  for (const [what, text, fragment] of CASES) {
    it(`masks ${what}`, () => {
      expect(redactSecrets(text, "error.message")).not.toContain(fragment);
    });
  }

  it("a tool error naming a password-only Redis URL reaches the run store with its password", async () => {
    const store = join(mkdtempSync(join(tmpdir(), "aw-attack-redis-")), "runs.jsonl");
    const warden = new Warden({ tracing: false, store });
    const cache = tool(
      async () => {
        throw new Error("connect ECONNREFUSED redis://:s3cretPassw0rd@redis:6379/0");
      },
      { name: "cache_get", description: "Reads the cache.", schema: z.object({ key: z.string() }) },
    );
    const llm = new ScriptedChatModel({
      model: "test-model",
      script: [{ toolCalls: [{ name: "cache_get", args: { key: "a" } }] }, { content: "done" }],
    });
    await wrapGraph(createReactAgent({ llm, tools: [cache], name: "cacher" }), { warden }).invoke(user("go"));
    await warden.shutdown();
    const line = readFileSync(store, "utf8");
    expect(line).toContain("ECONNREFUSED redis://"); // the error is recorded...
    expect(line).not.toContain("s3cretPassw0rd"); // ...its password masked
  });
});

describe("timer options a Node timer cannot hold", () => {
  it("recovery.retry delays above 2^31 − 1 ms are refused at construction, naming the field (setTimeout would fire at once)", () => {
    expect(() => new Warden({ recovery: { retry: { initialDelayMs: 3e9 } } })).toThrow(/initialDelayMs/);
    expect(() => new Warden({ recovery: { retry: { maxDelayMs: 3e9 } } })).toThrow(/maxDelayMs/);
    expect(
      () => new Warden({ recovery: { retry: { initialDelayMs: 2 ** 31 - 1, maxDelayMs: 2 ** 31 - 1 } } }),
    ).not.toThrow();
  });
});

describe("names a hostile agent, model or MCP server made huge", () => {
  const HUGE = 100_000;

  it("a 100,000-character tool and model name is cut to 256 in spans, metrics and the store", async () => {
    const { provider, spans } = memoryTracing();
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
    const meterProvider = new MeterProvider({ readers: [reader] });
    const store = join(mkdtempSync(join(tmpdir(), "aw-attack-names-")), "runs.jsonl");
    const warden = new Warden({ tracerProvider: provider, meterProvider, store });
    const name = `t${"x".repeat(HUGE)}`;
    const model = `m${"y".repeat(HUGE)}`;
    const huge = tool(async () => "ok", { name, description: "A tool.", schema: z.object({ q: z.string() }) });
    const llm = new ScriptedChatModel({
      model,
      script: [{ toolCalls: [{ name, args: { q: "a" } }], usage: { input: 10, output: 1 } }, { content: "done" }],
    });
    const out = await wrapGraph(createReactAgent({ llm, tools: [huge], name: "namer" }), { warden }).invoke(user("go"));
    // The agent itself is untouched: the tool ran under its own name.
    expect(String(out.messages.at(-2)?.content)).toBe("ok");
    await warden.shutdown();
    await reader.forceFlush();
    const toolSpan = spans().find((s) => s.name.startsWith("execute_tool "));
    expect(String(toolSpan?.attributes["gen_ai.tool.name"]).length).toBe(256);
    expect(String(toolSpan?.attributes["gen_ai.tool.name"])).toBe(`${name.slice(0, 255)}…`);
    expect(Math.max(...spans().map((s) => s.name.length))).toBeLessThanOrEqual(300);
    const chat = spans().find((s) => s.name.startsWith("chat "));
    expect(String(chat?.attributes["gen_ai.request.model"]).length).toBe(256);
    const labels = exporter
      .getMetrics()
      .flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics))
      .flatMap((m) => (m.dataPoints as Array<{ attributes: Record<string, unknown> }>).map((p) => p.attributes))
      .flatMap((a) => Object.values(a).map(String));
    expect(Math.max(...labels.map((l) => l.length))).toBeLessThanOrEqual(256);
    // The store line holds each name a few times, cut: kilobytes, not the megabyte of copies.
    expect(readFileSync(store, "utf8").length).toBeLessThan(20_000);
    await meterProvider.shutdown();
  });

  it("a 100,000-character tool name an MCP client sends is cut to 256 on its span", async () => {
    useContextManager();
    const { provider, spans } = memoryTracing();
    const server = new Server({ name: "s", version: "1.0.0" }, { capabilities: { tools: {} } });
    server.setRequestHandler(CallToolRequestSchema, async () => ({ content: [{ type: "text", text: "ok" }] }));
    const warden = new Warden({ tracerProvider: provider });
    const name = `t${"x".repeat(HUGE)}`;
    await inMcpTask(warden, server, "mcp_names", async (client) => {
      await client.callTool({ name, arguments: {} });
    });
    const call = spans().find((s) => s.attributes["mcp.method.name"] === "tools/call");
    expect(String(call?.attributes["gen_ai.tool.name"]).length).toBe(256);
    expect(call?.name.length).toBeLessThanOrEqual(300);
  });

  it("a 100,000-character resource URI is cut to 256 on the client's and the server's spans", async () => {
    useContextManager();
    const { provider, spans } = memoryTracing();
    const server = new Server({ name: "s", version: "1.0.0" }, { capabilities: { resources: {} } });
    server.setRequestHandler(ReadResourceRequestSchema, async (request) => ({
      contents: [{ uri: request.params.uri, text: "ok" }],
    }));
    traceMcpServer(server, { tracerProvider: provider });
    const warden = new Warden({ tracerProvider: provider });
    const uri = `file:///${"x".repeat(HUGE)}`;
    await inMcpTask(warden, server, "mcp_uris", async (client) => {
      await client.readResource({ uri });
    });
    const reads = spans().filter((s) => s.attributes["mcp.method.name"] === "resources/read");
    expect(reads.map((s) => s.kind).sort()).toEqual([SpanKind.SERVER, SpanKind.CLIENT].sort());
    for (const read of reads) expect(String(read.attributes["mcp.resource.uri"])).toBe(`${uri.slice(0, 255)}…`);
  });
});

describe("an MCP resource URI with credentials in it", () => {
  it("is redacted on the client's and the server's spans, content capture off, with the redactor each was given", async () => {
    useContextManager();
    const { provider, spans } = memoryTracing();
    const server = new Server({ name: "s", version: "1.0.0" }, { capabilities: { resources: {} } });
    server.setRequestHandler(ReadResourceRequestSchema, async (request) => ({
      contents: [{ uri: request.params.uri, text: "rows" }],
    }));
    const fields: string[] = [];
    // The server's redactor is a custom one: it is given the URI, named as its attribute.
    traceMcpServer(server, {
      tracerProvider: provider,
      redact: (text, field) => {
        fields.push(field);
        return text.replace("s3cretPassw0rd", "[SERVER_REDACTED]");
      },
    });
    const warden = new Warden({ tracerProvider: provider });
    const uri = "postgres://admin:s3cretPassw0rd@db.internal:5432/app?api_key=abcd1234secretZZ";
    await inMcpTask(warden, server, "mcp_uri_secret", async (client) => {
      await client.readResource({ uri });
    });
    const reads = spans().filter((s) => s.attributes["mcp.method.name"] === "resources/read");
    const byKind = Object.fromEntries(reads.map((s) => [s.kind, s.attributes["mcp.resource.uri"]]));
    // The client's Warden has the built-in redactor: URL credentials and the api_key value.
    expect(byKind[SpanKind.CLIENT]).toBe(
      "postgres://[REDACTED_CREDENTIALS]@db.internal:5432/app?api_key=[REDACTED_SECRET]",
    );
    expect(byKind[SpanKind.SERVER]).toBe(
      "postgres://admin:[SERVER_REDACTED]@db.internal:5432/app?api_key=abcd1234secretZZ",
    );
    expect(fields).toContain("mcp.resource.uri");
    expect(JSON.stringify(reads.map((s) => s.attributes))).not.toContain("s3cretPassw0rd");
  });
});

describe("an MCP protocol version a client chose", () => {
  it("a 100,000-character protocol version in a request's _meta is cut to 256 on the client's and the server's spans", async () => {
    useContextManager();
    const { provider, spans } = memoryTracing();
    const server = new Server({ name: "s", version: "1.0.0" }, { capabilities: { tools: {} } });
    server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [] }));
    traceMcpServer(server, { tracerProvider: provider });
    const warden = new Warden({ tracerProvider: provider });
    const huge = "9".repeat(100_000);
    await inMcpTask(warden, server, "mcp_versions", async (client) => {
      await client.request(
        { method: "tools/list", params: { _meta: { "io.modelcontextprotocol/protocolVersion": huge } } },
        ListToolsResultSchema,
      );
    });
    const lists = spans().filter((s) => s.attributes["mcp.method.name"] === "tools/list");
    expect(lists.map((s) => s.kind).sort()).toEqual([SpanKind.SERVER, SpanKind.CLIENT].sort());
    for (const list of lists) expect(String(list.attributes["mcp.protocol.version"])).toBe(`${huge.slice(0, 255)}…`);
  });
});

describe("a forged or edited run store line", () => {
  // Each passes the top-level checks of a summary; below that, a field is not what a summary holds.
  const forged: Record<string, Record<string, unknown>> = {
    "input a number": { input: 42 },
    "conversationId a number": { conversationId: 7 },
    "error a string": { outcome: "failure", error: "boom" },
    "a step that is null": { steps: [null] },
    "a tool's figures null": { tools: { search: null } },
    "a step error a number": {
      steps: [{ p: -1, k: "tool", n: "t", t: 0, d: 1, s: "error", e: 5 }],
    },
    "a count given as a string": { failures: { tool: "1", model: 0, eval: 0 } },
    "a model's calls a string": { models: { "gpt-4o": { calls: "1" } } },
    // Numbers no writer makes, which turned sums into NaN or Infinity in the report and the comparison.
    "a count past 2^53": {
      failures: { tool: 9007199254740994, model: 0, eval: 0 },
      recovered: { tool: 9007199254740994, model: 0, eval: 0 },
    },
    "a negative cost": { costUsd: -1 },
    "a cost of 1e308": { costUsd: 1e308 },
    "more recovered than failed": {
      failures: { tool: 1, model: 0, eval: 0 },
      recovered: { tool: 2, model: 0, eval: 0 },
    },
    "more completed subtasks than subtasks": { subtasks: 1, completedSubtasks: 2 },
  };

  function storeWith(lines: object[]): string {
    const path = join(mkdtempSync(join(tmpdir(), "aw-attack-store-")), "runs.jsonl");
    writeFileSync(path, `${lines.map((l) => JSON.stringify(l)).join("\n")}\n`);
    return path;
  }

  it("is skipped and reported with the field named; the store's other runs are read, reported and compared", async () => {
    const good = (id: string): TaskSummary => ({ ...generatedTask(1), id });
    for (const [what, over] of Object.entries(forged)) {
      const path = storeWith([good("good-1"), { ...good("bad"), ...over }, good("good-2")]);
      const read = readStore(path);
      expect([what, read.summaries.map((s) => s.id)]).toEqual([what, ["good-1", "good-2"]]);
      expect(read.errors).toHaveLength(1);
      expect(read.errors[0]?.line).toBe(2);
      expect(read.errors[0]?.message).toMatch(/^field /);
      // The report and the comparison read the same two runs, whatever the forged line holds.
      const report = await reportStore(path);
      expect([what, report.snapshot.cumulative.totals.success, report.skippedCount]).toEqual([what, 2, 1]);
      const comparison = await compareStores(path, path);
      const asf = comparison.metrics.find((m) => m.metric === "asf");
      expect([what, asf?.baselineN, asf?.candidateN]).toEqual([what, 2, 2]);
    }
  });

  it("with figures a hand-written line left out (a model's {}), is read with those figures as 0", async () => {
    const path = storeWith([{ ...generatedTask(1), id: "sparse", models: { "gpt-4o": {} } }]);
    const [s] = readStore(path).summaries;
    expect(s?.models["gpt-4o"]).toEqual({
      calls: 0,
      failures: 0,
      recovered: 0,
      costUsd: 0,
      costUnknownCalls: 0,
      estimatedUsageCalls: 0,
      tokens: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
    });
    expect((await reportStore(path)).snapshot.cumulative.totals.success).toBe(1);
  });

  it("a thrower's odd error name (a number, an object, a Symbol) is written as a string type, and every line reads", async () => {
    const store = join(mkdtempSync(join(tmpdir(), "aw-attack-odd-")), "runs.jsonl");
    const warden = new Warden({ tracing: false, store });
    const names: unknown[] = [42, { x: 1 }, Symbol("s")];
    for (const name of names) {
      const bad = tool(
        async () => {
          throw Object.assign(new Error("boom"), { name });
        },
        { name: "bad", description: "Fails.", schema: z.object({}) },
      );
      const llm = new ScriptedChatModel({ script: [{ toolCalls: [{ name: "bad", args: {} }] }, { content: "done" }] });
      const agent = createReactAgent({ llm, tools: new ToolNode([bad], { handleToolErrors: false }) });
      const thrown = await wrapGraph(agent, { warden })
        .invoke(user("go"))
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect((thrown as Error).message).toBe("boom");
    }
    await warden.shutdown();
    const read = readStore(store);
    expect(read.errors).toEqual([]);
    expect(read.summaries.map((s) => [s.error?.type, s.error?.message])).toEqual([
      ["_OTHER", "boom"],
      ["_OTHER", "boom"],
      ["_OTHER", "boom"],
    ]);
  });

  it("an error record with a type or message that is not a string (an older writer) reads, made strings", () => {
    const path = storeWith([
      { ...generatedTask(2), id: "odd", outcome: "failure", error: { type: 42, message: 7 } },
      { ...generatedTask(2), id: "empty", outcome: "failure", error: {} },
    ]);
    const read = readStore(path);
    expect(read.errors).toEqual([]);
    expect(read.summaries.map((s) => [s.id, s.error])).toEqual([
      ["odd", { type: "_OTHER", message: "7" }],
      ["empty", { type: "_OTHER", message: "" }],
    ]);
  });

  it("leaves the dashboard answering with the other runs, the line counted as skipped", async () => {
    for (const [what, over] of Object.entries(forged)) {
      const path = storeWith([
        { ...generatedTask(1), id: "good-1" },
        { ...generatedTask(2), ...over },
      ]);
      const dashboard = await serveDashboard(path, { port: 0 });
      try {
        for (let poll = 0; poll < 2; poll++) {
          const res = await fetch(new URL("api/data", dashboard.url));
          expect([what, res.status]).toEqual([what, 200]);
          const data = (await res.json()) as { storeRuns: number; skippedCount: number };
          expect([what, data.storeRuns, data.skippedCount]).toEqual([what, 1, 1]);
        }
      } finally {
        await dashboard.close();
      }
    }
  });
});
