import { mkdtempSync, realpathSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Annotation, START, StateGraph } from "@langchain/langgraph";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { MultiServerMCPClient } from "@langchain/mcp-adapters";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import {
  CallToolRequestSchema,
  ListToolsRequestSchema,
  ReadResourceResultSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { wrapGraph } from "../adapters/langgraph/index.js";
import { instrumentMcp, traceMcpServer } from "../adapters/mcp/index.js";
import { type Script, ScriptedChatModel } from "../adapters/testing/index.js";
import { type TaskSummary, Warden } from "../src/index.js";
import { memoryTracing, n, one, tree } from "./support/otel.js";

const serverBin = (pkg: string) =>
  join(process.cwd(), "node_modules", "@modelcontextprotocol", pkg, "dist", "index.js");
const root = realpathSync(mkdtempSync(join(tmpdir(), "aw-mcp-")));
writeFileSync(join(root, "notes.txt"), "tides follow the moon");

instrumentMcp();

/** A workflow whose one node runs `body` with the client: MCP calls made directly from agent code. */
function workflow(warden: Warden, body: () => Promise<string>) {
  const S = Annotation.Root({ out: Annotation<string>() });
  const graph = new StateGraph(S)
    .addNode("work", async () => ({ out: await body() }))
    .addEdge(START, "work")
    .compile({ name: "mcp_work" });
  return wrapGraph(graph, { warden });
}

async function stdioClient(args: string[]) {
  const client = new Client({ name: "agentwarden-test", version: "1.0.0" });
  await client.connect(new StdioClientTransport({ command: process.execPath, args, stderr: "ignore" }));
  return client;
}

const text = (r: unknown) => ((r as { content: Array<{ text?: string }> }).content[0]?.text ?? "") as string;

describe("a real filesystem server over stdio", () => {
  let client: Client;
  beforeAll(async () => {
    client = await stdioClient([serverBin("server-filesystem"), root]);
  });
  afterAll(async () => {
    await client.close();
  });

  it("a read that succeeds is one CLIENT span tools/call with the MCP attributes", async () => {
    const { provider, spans } = memoryTracing();
    const warden = new Warden({ tracerProvider: provider, toolCosts: { read_text_file: 0.01 } });
    let summary: TaskSummary | undefined;
    warden.onTaskEnd((run) => {
      summary = run.summary();
    });
    const out = await workflow(warden, async () =>
      text(await client.callTool({ name: "read_text_file", arguments: { path: join(root, "notes.txt") } })),
    ).invoke({});
    expect(out.out).toBe("tides follow the moon");
    expect(tree(spans())).toEqual([n("invoke_workflow mcp_work", [n("work", [n("tools/call read_text_file")])])]);
    const call = one(spans(), "tools/call read_text_file");
    expect(call.kind).toBe(SpanKind.CLIENT);
    expect(call.attributes).toMatchObject({
      "gen_ai.operation.name": "execute_tool",
      "gen_ai.tool.name": "read_text_file",
      "gen_ai.tool.type": "extension",
      "mcp.method.name": "tools/call",
      "mcp.protocol.version": expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
      "network.transport": "pipe",
      "jsonrpc.request.id": expect.stringMatching(/^\d+$/),
    });
    expect(call.status.code).toBe(SpanStatusCode.UNSET);
    expect(summary?.costUsd).toBe(0.01); // the tool's own cost
    expect(summary?.completedSubtasks).toBe(1);
  });

  it("a missing file is an isError tool failure, and a path outside the roots too", async () => {
    const { provider, spans } = memoryTracing();
    const warden = new Warden({ tracerProvider: provider });
    const summaries: TaskSummary[] = [];
    warden.onTaskEnd((run) => summaries.push(run.summary()));
    await workflow(warden, async () =>
      text(await client.callTool({ name: "read_text_file", arguments: { path: join(root, "missing.txt") } })),
    ).invoke({});
    await workflow(warden, async () =>
      text(await client.callTool({ name: "read_text_file", arguments: { path: "/etc/passwd" } })),
    ).invoke({});
    const calls = spans().filter((s) => s.name === "tools/call read_text_file");
    expect(calls.map((s) => [s.status.code, s.attributes["error.type"]])).toEqual([
      [SpanStatusCode.ERROR, "tool_error"],
      [SpanStatusCode.ERROR, "tool_error"],
    ]);
    expect(calls[0]?.status.message).toMatch(/ENOENT: no such file or directory/);
    expect(calls[1]?.status.message).toMatch(/Access denied - path outside allowed directories/);
    expect(summaries.map((s) => [s.failures.tool, s.recovered.tool])).toEqual([
      [1, 0],
      [1, 0],
    ]);
  });
});

describe("@langchain/mcp-adapters over an instrumented client: tracing, recovery and breakers", () => {
  let mcp: MultiServerMCPClient;
  beforeAll(() => {
    mcp = new MultiServerMCPClient({
      mcpServers: {
        fs: {
          transport: "stdio",
          command: process.execPath,
          args: [serverBin("server-filesystem"), root],
          stderr: "ignore",
        },
      },
    });
  });
  afterAll(async () => {
    await mcp.close();
  });

  it("a ReAct agent using MultiServerMCPClient tools: one trace, execute_tool spans carry mcp.*; a wrong path is recovered (ERR 1)", async () => {
    const { provider, spans } = memoryTracing();
    const warden = new Warden({ tracerProvider: provider });
    let summary: TaskSummary | undefined;
    warden.onTaskEnd((run) => {
      summary = run.summary();
    });
    const tools = await mcp.getTools();
    const script: Script = (messages) => {
      const last = messages.at(-1);
      if (last?.getType() === "human")
        return { toolCalls: [{ name: "read_text_file", args: { path: join(root, "note.txt") }, id: "r1" }] };
      if (last?.getType() === "tool" && String(last.content).includes("ENOENT")) {
        return { toolCalls: [{ name: "read_text_file", args: { path: join(root, "notes.txt") }, id: "r2" }] };
      }
      return { content: `The notes say: ${String(last?.content)}` };
    };
    const llm = new ScriptedChatModel({ script });
    const agent = wrapGraph(createReactAgent({ llm, tools, name: "reader" }), { warden });
    const out = await agent.invoke({ messages: [{ role: "user", content: "what do my notes say?" }] });
    expect(String(out.messages.at(-1)?.content)).toContain("tides follow the moon");
    expect(tree(spans())).toEqual([
      n("invoke_agent reader", [
        n("agent", [n("chat gpt-4o-mini")]),
        n("tools", [n("execute_tool read_text_file", [], "ERROR")]),
        n("agent", [n("chat gpt-4o-mini")]),
        n("tools", [n("execute_tool read_text_file")]),
        n("agent", [n("chat gpt-4o-mini")]),
      ]),
    ]);
    const [failed, ok] = spans().filter((s) => s.name === "execute_tool read_text_file");
    for (const s of [failed, ok]) {
      expect(s?.attributes).toMatchObject({
        "gen_ai.tool.type": "extension",
        "mcp.method.name": "tools/call",
        "network.transport": "pipe",
        // Issue 13.19: the adapter hands tools a Proxy of the Client; the version is still known.
        "mcp.protocol.version": expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
      });
    }
    // Issue 13.20: an isError result is `tool_error` whichever way the call was made.
    expect([failed?.status.code, failed?.attributes["error.type"]]).toEqual([SpanStatusCode.ERROR, "tool_error"]);
    expect(new Set(spans().map((s) => s.spanContext().traceId)).size).toBe(1);
    expect([summary?.failures.tool, summary?.recovered.tool]).toEqual([1, 1]);
  });

  it("an isError result gets a corrective message like any tool; the fix counts as an injected recovery", async () => {
    const warden = new Warden({ tracing: false, recovery: { retry: false } });
    let summary: TaskSummary | undefined;
    warden.onTaskEnd((run) => {
      summary = run.summary();
    });
    const tools = await mcp.getTools();
    const script: Script = (messages) => {
      const last = messages.at(-1);
      if (last?.getType() === "human")
        return { toolCalls: [{ name: "read_text_file", args: { path: "/etc/hostname" }, id: "r1" }] };
      const content = String(last?.content);
      if (
        last?.getType() === "tool" &&
        content.startsWith('Tool "read_text_file" failed (a permanent error):') &&
        content.includes("Access denied")
      ) {
        return { toolCalls: [{ name: "read_text_file", args: { path: join(root, "notes.txt") }, id: "r2" }] };
      }
      return { content: String(last?.content) };
    };
    const agent = wrapGraph(createReactAgent({ llm: new ScriptedChatModel({ script }), tools, name: "reader" }), {
      warden,
    });
    const out = await agent.invoke({ messages: [{ role: "user", content: "read" }] });
    expect(String(out.messages.at(-1)?.content)).toContain("tides follow the moon");
    expect([summary?.failures.tool, summary?.recovered.tool, summary?.recoveredInjected.tool]).toEqual([1, 1, 1]);
  });

  it("a tool circuit breaker opens on a failing MCP tool and fails fast", async () => {
    const warden = new Warden({
      tracing: false,
      toolBreaker: { consecutiveFailures: 2, halfOpenAfterMs: 60_000 },
      loops: false,
    });
    const tools = await mcp.getTools();
    const script: Script = (messages) => {
      const calls = messages.filter((m) => m.getType() === "tool").length;
      return calls < 3
        ? { toolCalls: [{ name: "read_text_file", args: { path: `/etc/nope-${calls}` }, id: `r${calls}` }] }
        : { content: "gave up" };
    };
    const agent = wrapGraph(createReactAgent({ llm: new ScriptedChatModel({ script }), tools, name: "reader" }), {
      warden,
    });
    const out = await agent.invoke({ messages: [{ role: "user", content: "read" }] });
    const results = out.messages.filter((m) => m.getType() === "tool").map((m) => String(m.content));
    expect(results[0]).toMatch(/Access denied/);
    expect(results[1]).toMatch(/Access denied/);
    expect(results[2]).toMatch(/Tool read_text_file is temporarily unavailable/);
    expect(warden.toolBreakers?.state("read_text_file")).toBe("open");
  });
});

describe("a real everything server over stdio", () => {
  let client: Client;
  beforeAll(async () => {
    client = await stdioClient([serverBin("server-everything"), "stdio"]);
  });
  afterAll(async () => {
    await client.close();
  });

  it("echo, get-sum, a long-running call with progress, and a timeout", async () => {
    const { provider, spans } = memoryTracing();
    const warden = new Warden({ tracerProvider: provider });
    const progress: number[] = [];
    const out = await workflow(warden, async () => {
      const echo = text(await client.callTool({ name: "echo", arguments: { message: "hello" } }));
      const sum = text(await client.callTool({ name: "get-sum", arguments: { a: 2, b: 3 } }));
      await client.callTool(
        { name: "trigger-long-running-operation", arguments: { duration: 0.3, steps: 3 } },
        undefined,
        {
          onprogress: (p) => progress.push(p.progress),
        },
      );
      try {
        await client.callTool(
          { name: "trigger-long-running-operation", arguments: { duration: 5, steps: 5 } },
          undefined,
          { timeout: 100 },
        );
        return "no timeout";
      } catch (error) {
        return `${echo} | ${sum} | ${(error as Error).message}`;
      }
    }).invoke({});
    expect(out.out).toMatch(/^Echo: hello \| The sum of 2 and 3 is 5\.? \| MCP error -32001: Request timed out/);
    // The server reports each of its 3 steps; the last report can race the result and be dropped.
    expect(progress.slice(0, 2)).toEqual([1, 2]);
    expect(progress.length === 2 || (progress.length === 3 && progress[2] === 3)).toBe(true);
    expect(tree(spans())[0]?.children[0]?.children.map((c) => [c.name, c.status ?? "OK"])).toEqual([
      ["tools/call echo", "OK"],
      ["tools/call get-sum", "OK"],
      ["tools/call trigger-long-running-operation", "OK"],
      ["tools/call trigger-long-running-operation", "ERROR"],
    ]);
    const timedOut = spans().filter((s) => s.name === "tools/call trigger-long-running-operation")[1];
    expect(timedOut?.attributes["error.type"]).toBe("-32001");
    expect(warden.stats().openTasks).toBe(0);
  });
});

describe("an in-process client/server pair", () => {
  it("the server sees the client's traceparent; its spans are children of the client span", async () => {
    const { provider, spans } = memoryTracing();
    const warden = new Warden({ tracerProvider: provider });
    const server = new McpServer({ name: "inproc", version: "1.0.0" });
    const seen: Array<string | undefined> = [];
    const serverTracer = provider.getTracer("tool-server");
    server.registerTool(
      "lookup",
      { description: "Looks up.", inputSchema: { key: z.string() } },
      async ({ key }, extra) => {
        seen.push((extra as { _meta?: Record<string, string> })._meta?.traceparent);
        const inner = serverTracer.startSpan("db.query");
        inner.end();
        return { content: [{ type: "text", text: `value of ${key}` }] };
      },
    );
    traceMcpServer(server, { tracerProvider: provider });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    const client = new Client({ name: "c", version: "1" });
    await client.connect(clientSide);
    const out = await workflow(warden, async () =>
      text(await client.callTool({ name: "lookup", arguments: { key: "k1" } })),
    ).invoke({});
    expect(out.out).toBe("value of k1");
    // The server traces every request (initialize too); the task's trace holds the call.
    const taskTrace = one(spans(), "invoke_workflow mcp_work").spanContext().traceId;
    const traceSpans = spans().filter((s) => s.spanContext().traceId === taskTrace);
    expect(tree(traceSpans)).toEqual([
      n("invoke_workflow mcp_work", [n("work", [n("tools/call lookup", [n("tools/call lookup", [n("db.query")])])])]),
    ]);
    const clientSpan = traceSpans.find((s) => s.name === "tools/call lookup" && s.kind === SpanKind.CLIENT);
    const serverSpan = traceSpans.find((s) => s.name === "tools/call lookup" && s.kind === SpanKind.SERVER);
    expect(clientSpan?.kind).toBe(SpanKind.CLIENT);
    expect(serverSpan?.kind).toBe(SpanKind.SERVER);
    expect(serverSpan?.parentSpanContext?.spanId).toBe(clientSpan?.spanContext().spanId);
    expect(seen[0]).toBe(`00-${clientSpan?.spanContext().traceId}-${clientSpan?.spanContext().spanId}-01`);
    await client.close();
    await server.close();
  });
});

describe("bad servers", () => {
  it("a malformed result is a clear tool failure; the span ends with an error and nothing stays open", async () => {
    const { provider, spans } = memoryTracing();
    const warden = new Warden({ tracerProvider: provider });
    const server = new Server({ name: "bad", version: "1" }, { capabilities: { tools: {} } });
    server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [] }));
    server.setRequestHandler(CallToolRequestSchema, async () => ({ content: "not a list" }) as never);
    const [a, b] = InMemoryTransport.createLinkedPair();
    await server.connect(b);
    const client = new Client({ name: "c", version: "1" });
    await client.connect(a);
    const out = await workflow(warden, async () => {
      try {
        await client.callTool({ name: "anything", arguments: {} });
        return "accepted";
      } catch (error) {
        return `rejected: ${(error as Error).name}`;
      }
    }).invoke({});
    expect(out.out).toMatch(/^rejected: /);
    const call = one(spans(), "tools/call anything");
    expect(call.status.code).toBe(SpanStatusCode.ERROR);
    expect(warden.stats().openTasks).toBe(0);
    await client.close();
  });

  it("a server that dies mid-call: the call fails (connection closed), the span ends with an error", async () => {
    const { provider, spans } = memoryTracing();
    const warden = new Warden({ tracerProvider: provider });
    const dir = mkdtempSync(join(tmpdir(), "aw-dying-"));
    const script = join(dir, "dying.mjs");
    writeFileSync(
      script,
      [
        `import { McpServer } from ${JSON.stringify(join(process.cwd(), "node_modules/@modelcontextprotocol/sdk/dist/esm/server/mcp.js"))};`,
        `import { StdioServerTransport } from ${JSON.stringify(join(process.cwd(), "node_modules/@modelcontextprotocol/sdk/dist/esm/server/stdio.js"))};`,
        `const server = new McpServer({ name: "dying", version: "1" });`,
        `server.registerTool("crash", { description: "dies" }, async () => { process.exit(3); });`,
        `await server.connect(new StdioServerTransport());`,
      ].join("\n"),
    );
    const client = await stdioClient([script]);
    const out = await workflow(warden, async () => {
      try {
        await client.callTool({ name: "crash", arguments: {} });
        return "survived";
      } catch (error) {
        return `failed: ${(error as Error).message}`;
      }
    }).invoke({});
    expect(out.out).toMatch(/^failed: MCP error -32000: Connection closed/);
    const call = one(spans(), "tools/call crash");
    expect([call.status.code, call.attributes["error.type"]]).toEqual([SpanStatusCode.ERROR, "-32000"]);
    expect(warden.stats().openTasks).toBe(0);
    await client.close().catch(() => undefined);
  });
});

describe("MCP spans as the conventions want them (issue 14)", () => {
  /** An in-process pair: a McpServer with a prompt, a resource and a tool, and a raw Server whose handler throws synchronously. */
  async function pair(provider: ReturnType<typeof memoryTracing>["provider"]) {
    const server = new McpServer({ name: "conv", version: "1.0.0" });
    server.registerPrompt(
      "summarize",
      { description: "Summarizes.", argsSchema: { text: z.string() } },
      ({ text }) => ({
        messages: [{ role: "user", content: { type: "text", text: `Summarize: ${text}` } }],
      }),
    );
    server.registerResource("notes", "file:///notes.txt", { mimeType: "text/plain" }, async (uri) => ({
      contents: [{ uri: uri.href, text: "tides" }],
    }));
    traceMcpServer(server, { tracerProvider: provider });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    const client = new Client({ name: "c", version: "1" });
    await client.connect(clientSide);
    return { server, client };
  }

  it("client spans: prompts/get named after its prompt, mcp.resource.uri, rpc.response.status_code on a JSON-RPC error", async () => {
    const { provider, spans } = memoryTracing();
    const warden = new Warden({ tracerProvider: provider });
    const { server, client } = await pair(provider);
    const out = await workflow(warden, async () => {
      await client.getPrompt({ name: "summarize", arguments: { text: "moon" } });
      await client.readResource({ uri: "file:///notes.txt" });
      try {
        await client.getPrompt({ name: "missing", arguments: {} });
        return "found";
      } catch (error) {
        return (error as Error).message;
      }
    }).invoke({});
    expect(out.out).toMatch(/MCP error -32602/);
    const clientSpans = spans().filter((s) => s.kind === SpanKind.CLIENT);
    expect(clientSpans.map((s) => s.name)).toEqual(["prompts/get summarize", "resources/read", "prompts/get missing"]);
    const [prompt, resource, missing] = clientSpans;
    expect(prompt?.attributes).toMatchObject({ "mcp.method.name": "prompts/get", "gen_ai.prompt.name": "summarize" });
    expect(prompt?.attributes["gen_ai.operation.name"]).toBeUndefined(); // only tool calls are execute_tool
    expect(resource?.attributes).toMatchObject({
      "mcp.method.name": "resources/read",
      "mcp.resource.uri": "file:///notes.txt",
    });
    // On the client every JSON-RPC error code is an error.
    expect([
      missing?.status.code,
      missing?.attributes["error.type"],
      missing?.attributes["rpc.response.status_code"],
    ]).toEqual([SpanStatusCode.ERROR, "-32602", "-32602"]);
    await client.close();
    await server.close();
  });

  it("server spans: jsonrpc.request.id, mcp.protocol.version, rpc.response.status_code; a caller's error is not a server error", async () => {
    const { provider, spans } = memoryTracing();
    const { server, client } = await pair(provider);
    await client.getPrompt({ name: "summarize", arguments: { text: "moon" } });
    await client.getPrompt({ name: "missing", arguments: {} }).catch(() => undefined);
    const serverSpans = spans().filter((s) => s.kind === SpanKind.SERVER);
    expect(serverSpans.map((s) => s.name)).toEqual(["initialize", "prompts/get summarize", "prompts/get missing"]);
    const [init, ok, missing] = serverSpans;
    const version = init?.attributes["mcp.protocol.version"];
    expect(version).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(ok?.attributes).toMatchObject({
      "mcp.method.name": "prompts/get",
      "gen_ai.prompt.name": "summarize",
      "jsonrpc.request.id": "1",
      "mcp.protocol.version": version,
    });
    // -32602 (invalid params: the prompt does not exist) is the caller's error: recorded, not an error.
    expect([
      missing?.status.code,
      missing?.attributes["rpc.response.status_code"],
      missing?.attributes["error.type"],
    ]).toEqual([SpanStatusCode.UNSET, "-32602", undefined]);
    await client.close();
    await server.close();
  });

  it("a handler that throws synchronously gets error.type and rpc.response.status_code like an async one", async () => {
    const { provider, spans } = memoryTracing();
    const server = new Server({ name: "sync", version: "1" }, { capabilities: { tools: {} } });
    server.setRequestHandler(ListToolsRequestSchema, () => {
      throw new Error("listing broke");
    });
    traceMcpServer(server, { tracerProvider: provider });
    const [a, b] = InMemoryTransport.createLinkedPair();
    await server.connect(b);
    const client = new Client({ name: "c", version: "1" });
    await client.connect(a);
    await expect(client.listTools()).rejects.toThrow(/listing broke/);
    const list = spans().find((s) => s.kind === SpanKind.SERVER && s.name === "tools/list");
    expect([list?.status, list?.attributes["error.type"], list?.attributes["rpc.response.status_code"]]).toEqual([
      { code: SpanStatusCode.ERROR, message: "listing broke" },
      "-32603",
      "-32603",
    ]);
    await client.close();
    await server.close();
  });

  it("the protocol version comes from the request's _meta when it carries one (MCP 2026-07-28, no initialize)", async () => {
    const { provider, spans } = memoryTracing();
    const warden = new Warden({ tracerProvider: provider });
    const { server, client } = await pair(provider);
    await workflow(warden, async () => {
      await client.request(
        {
          method: "resources/read",
          params: { uri: "file:///notes.txt", _meta: { "io.modelcontextprotocol/protocolVersion": "2026-07-28" } },
        },
        ReadResourceResultSchema,
      );
      return "ok";
    }).invoke({});
    const [clientSpan] = spans().filter((s) => s.kind === SpanKind.CLIENT);
    const serverSpan = spans().find((s) => s.kind === SpanKind.SERVER && s.name === "resources/read");
    expect(clientSpan?.attributes["mcp.protocol.version"]).toBe("2026-07-28");
    expect(serverSpan?.attributes["mcp.protocol.version"]).toBe("2026-07-28");
    await client.close();
    await server.close();
  });
});
