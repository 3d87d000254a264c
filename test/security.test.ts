import { mkdtempSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import type { BaseMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { Annotation, Command, interrupt, MemorySaver, START, StateGraph } from "@langchain/langgraph";
import { createReactAgent, ToolNode } from "@langchain/langgraph/prebuilt";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { SpanKind, SpanStatusCode, type TracerProvider } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { wrapGraph } from "../adapters/langgraph/index.js";
import { instrumentMcp, traceMcpServer } from "../adapters/mcp/index.js";
import { ScriptedChatModel } from "../adapters/testing/index.js";
import { captureText, REDACTION_MARGIN } from "../src/content.js";
import {
  type ContentField,
  type DashboardData,
  isBreakerTrip,
  type Redactor,
  readStore,
  redactSecrets,
  serveDashboard,
  type TaskSummary,
  Warden,
} from "../src/index.js";
import { TEST_PRICES, user } from "./support/agents.js";
import { memoryTracing, one } from "./support/otel.js";

instrumentMcp();

// The planted secrets: an e-mail address, an OpenAI project key (sk-proj- + 24 alphanumerics) and
// an AWS access key id (AKIA + 16 upper-case letters and digits).
const EMAIL = "alice.secret@example.com";
const OPENAI_BODY = "Q7wErTy2UiOp4AsDf6GhJk8L";
const OPENAI_KEY = `sk-proj-${OPENAI_BODY}`;
const AWS_BODY = "Q7WERTY2UIOP4ASD";
const AWS_KEY = `AKIA${AWS_BODY}`;
/** Whole secrets and their distinctive parts: none may appear anywhere, cut or not. */
const FRAGMENTS = [EMAIL, "alice.secret", OPENAI_KEY, OPENAI_BODY, AWS_KEY, AWS_BODY];

/** Text carrying all three secrets, tagged with where it was planted. */
const plant = (where: string) => `${where} ${EMAIL} ${OPENAI_KEY} ${AWS_KEY}`;
/** The same text as the default redactor leaves it. */
const redacted = (where: string) => `${where} [REDACTED_EMAIL] [REDACTED_KEY] [REDACTED_KEY]`;

const leaks = (text: string) => FRAGMENTS.filter((f) => text.includes(f));

/** Everything a span exports, as one string: name, kind, attributes, status, events, links, resource, scope. */
function exported(spans: readonly ReadableSpan[]): string {
  return JSON.stringify(
    spans.map((s) => ({
      name: s.name,
      kind: s.kind,
      attributes: s.attributes,
      status: s.status,
      events: s.events.map((e) => ({ name: e.name, attributes: e.attributes ?? {} })),
      links: s.links.map((l) => ({ context: l.context, attributes: l.attributes ?? {} })),
      resource: s.resource.attributes,
      scope: s.instrumentationScope,
    })),
  );
}

const CONTENT_KEYS = [
  "gen_ai.input.messages",
  "gen_ai.output.messages",
  "gen_ai.system_instructions",
  "gen_ai.tool.definitions",
  "gen_ai.tool.call.arguments",
  "gen_ai.tool.call.result",
  "agentwarden.recovery.message",
];

const lastText = (state: unknown) => String((state as { messages: BaseMessage[] }).messages.at(-1)?.content ?? "");

/** What reached the agent's own code unredacted: proof that the secrets really went through it. */
interface Seen {
  tool: string[];
  mcp: string[];
}

/**
 * A ReAct agent that meets the secrets everywhere: in its system message and prompt, in the tool
 * arguments its model writes, in a tool result, a tool error (recovered by a corrective message),
 * its model's answer, an eval-driven correction's feedback and a final eval's feedback.
 */
function vaultAgent(warden: Warden, seen: Seen) {
  const lookup = tool(
    async ({ query }: { query: string }) => {
      seen.tool.push(query);
      return plant("account of");
    },
    { name: "lookup", description: "Looks an account up.", schema: z.object({ query: z.string() }) },
  );
  const charge = tool(
    async ({ account }: { account: string }) => {
      seen.tool.push(account);
      throw new Error(plant("no account for"));
    },
    { name: "charge", description: "Charges an account.", schema: z.object({ account: z.string() }) },
  );
  const llm = new ScriptedChatModel({
    model: "test-model",
    script: [
      {
        toolCalls: [
          { name: "lookup", args: { query: plant("lookup args") }, id: "call_lookup" },
          { name: "charge", args: { account: plant("charge args") }, id: "call_charge" },
        ],
      },
      { content: plant("first answer") },
      { content: "final answer: done" },
    ],
  });
  return wrapGraph(createReactAgent({ llm, tools: [lookup, charge], name: "vault" }), {
    warden,
    corrections: [
      {
        evaluators: [
          {
            name: "answer_check",
            evaluate: (state) =>
              lastText(state).startsWith("final answer")
                ? { pass: true }
                : { pass: false, reason: plant("judge says") },
          },
        ],
      },
    ],
    finalEvals: [{ name: "policy", evaluate: () => ({ pass: false, reason: plant("policy feedback") }) }],
  });
}

const vaultInput = {
  messages: [
    { role: "system", content: plant("system") },
    { role: "user", content: plant("user") },
  ],
};

async function runVault(warden: Warden, seen: Seen) {
  const out = await vaultAgent(warden, seen).invoke(vaultInput);
  expect(lastText(out)).toBe("final answer: done");
  return out;
}

/** A model call that fails with the secrets in its message. */
async function runModelError(warden: Warden) {
  const llm = new ScriptedChatModel({
    model: "test-model",
    script: [{ error: new Error(plant("provider rejected")) }],
  });
  const agent = wrapGraph(createReactAgent({ llm, tools: [], name: "vault_model" }), { warden });
  await expect(agent.invoke(user("hello"))).rejects.toThrow(plant("provider rejected"));
}

/** A shared budget keyed by a tenant that is an e-mail address: the trip's reason names it. */
async function runTrip(warden: Warden) {
  const llm = new ScriptedChatModel({ model: "test-model", script: [{ content: "never" }] });
  const agent = wrapGraph(createReactAgent({ llm, tools: [], name: "vault_budget" }), { warden });
  const error = await agent.invoke(user("hello"), { configurable: { agentwarden: { tenant: EMAIL } } }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isBreakerTrip(error)).toBe(true);
  expect(llm.calls).toBe(0);
}

/**
 * A StateGraph workflow calling a real (in-process) MCP server directly: one error result and one
 * thrown handler error carrying the secrets, then an interrupt whose value and resume carry them.
 */
async function runMcpFlow(warden: Warden, seen: Seen, provider: TracerProvider) {
  const server = new Server({ name: "vault-mcp", version: "1.0.0" }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [] }));
  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    const args = (request.params.arguments ?? {}) as { email?: string; mode?: string };
    seen.mcp.push(String(args.email));
    if (args.mode === "result") return { content: [{ type: "text", text: plant("mcp error result") }], isError: true };
    throw new Error(plant("mcp handler threw"));
  });
  traceMcpServer(server, { tracerProvider: provider });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: "vault-client", version: "1.0.0" });
  await client.connect(clientSide);

  const S = Annotation.Root({
    out: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
  });
  const graph = new StateGraph(S)
    .addNode("work", async () => {
      const out: string[] = [];
      const result = (await client.callTool({ name: "vault_lookup", arguments: { email: EMAIL, mode: "result" } })) as {
        content: Array<{ text: string }>;
        isError?: boolean;
      };
      out.push(`${result.isError ? "error" : "ok"}: ${result.content[0]?.text}`);
      try {
        await client.callTool({ name: "vault_lookup", arguments: { email: EMAIL, mode: "throw" } });
        out.push("accepted");
      } catch (error) {
        out.push(`thrown: ${(error as Error).message}`);
      }
      return { out };
    })
    .addNode("ask", () => ({ out: [String(interrupt(plant("interrupt question")))] }))
    .addEdge(START, "work")
    .addEdge("work", "ask")
    .compile({ name: "vault_flow", checkpointer: new MemorySaver() });
  const flow = wrapGraph(graph, { warden });
  const config = { configurable: { thread_id: "thread-1" } };
  const paused = await flow.invoke({}, config);
  expect(paused.out).toEqual([
    `error: ${plant("mcp error result")}`,
    `thrown: MCP error -32603: ${plant("mcp handler threw")}`,
  ]);
  const resumed = await flow.invoke(new Command({ resume: plant("resume") }), config);
  expect(resumed.out.at(-1)).toBe(plant("resume"));
  await client.close();
  await server.close();
}

/** The whole scenario against one Warden: the agent, a model error, a breaker trip, the MCP workflow. */
async function runAll(warden: Warden, provider: TracerProvider): Promise<void> {
  const seen: Seen = { tool: [], mcp: [] };
  await runVault(warden, seen);
  await runModelError(warden);
  await runTrip(warden);
  await runMcpFlow(warden, seen, provider);
  // The secrets did reach the agent's code: what follows checks they went no further.
  expect(seen.tool).toEqual([plant("lookup args"), plant("charge args")]);
  expect(seen.mcp).toEqual([EMAIL, EMAIL]);
  expect(warden.stats().openTasks).toBe(0);
}

const wardenOptions = (store?: string) => ({
  prices: TEST_PRICES,
  recovery: {},
  sharedBudgets: [{ name: "tenant-hourly", key: "tenant" as const, maxCostUsd: 0, windowMs: 3_600_000 }],
  ...(store ? { store } : {}),
});

describe("with content capture on, no secret leaves the agent unredacted", () => {
  const { provider, spans } = memoryTracing();
  const store = join(mkdtempSync(join(tmpdir(), "aw-security-")), "runs.jsonl");
  const warden = new Warden({ tracerProvider: provider, captureContent: true, ...wardenOptions(store) });

  beforeAll(async () => {
    await runAll(warden, provider);
    await warden.shutdown();
  }, 30_000);

  it("no exported span carries a secret: names, attributes, nested JSON, status, events, links, resource", () => {
    const text = exported(spans());
    expect(text.length).toBeGreaterThan(10_000);
    expect(leaks(text)).toEqual([]);
  });

  it("captured content is there, redacted, where the agent put the secrets", () => {
    const s = spans();
    const [firstChat, secondChat] = s.filter((x) => x.name === "chat test-model");
    // System message (the system instructions) and user prompt, in the conventions' shapes.
    expect(JSON.parse(String(firstChat?.attributes["gen_ai.system_instructions"]))).toEqual([
      { type: "text", content: redacted("system") },
    ]);
    expect(JSON.parse(String(firstChat?.attributes["gen_ai.input.messages"]))).toEqual([
      { role: "user", parts: [{ type: "text", content: redacted("user") }] },
    ]);
    // The tool call arguments the model wrote.
    const calls = JSON.parse(String(firstChat?.attributes["gen_ai.output.messages"])) as Array<{
      parts: Array<{ type: string; arguments?: unknown }>;
    }>;
    expect(calls[0]?.parts.filter((p) => p.type === "tool_call").map((c) => c.arguments)).toEqual([
      { query: redacted("lookup args") },
      { account: redacted("charge args") },
    ]);
    // The model's answer.
    expect(JSON.parse(String(secondChat?.attributes["gen_ai.output.messages"]))).toEqual([
      { role: "assistant", parts: [{ type: "text", content: redacted("first answer") }], finish_reason: "stop" },
    ]);
    // A tool's arguments and result.
    const lookup = one(s, "execute_tool lookup");
    expect(lookup.attributes["gen_ai.tool.call.arguments"]).toBe(JSON.stringify({ query: redacted("lookup args") }));
    expect(lookup.attributes["gen_ai.tool.call.result"]).toBe(redacted("account of"));
    // A thrown tool error: the span's status message.
    const charge = one(s, "execute_tool charge");
    expect(charge.status).toEqual({ code: SpanStatusCode.ERROR, message: redacted("no account for") });
    expect(charge.attributes["gen_ai.tool.call.arguments"]).toBe(JSON.stringify({ account: redacted("charge args") }));
    // The corrective message recovery gave the model.
    const corrective = String(one(s, "recover charge").attributes["agentwarden.recovery.message"]);
    expect(corrective.split("\n")[0]).toBe(`Tool "charge" failed (a permanent error): ${redacted("no account for")}`);
    // Eval feedback: the correction's check and the final eval.
    const evals = s.filter((x) => x.name === "eval answer_check");
    expect(evals.map((e) => e.attributes["gen_ai.evaluation.explanation"])).toEqual([
      redacted("judge says"),
      undefined,
    ]);
    expect(evals[0]?.status.message).toBe(`evaluator answer_check failed: ${redacted("judge says")}`);
    expect(one(s, "recover agent").attributes["agentwarden.recovery.message"]).toBe(
      `Your previous answer did not pass the check "answer_check": ${redacted("judge says")}. Correct your answer and reply again.`,
    );
    const policy = one(s, "eval policy");
    expect(policy.attributes["gen_ai.evaluation.explanation"]).toBe(redacted("policy feedback"));
    expect(one(s, "invoke_agent vault").status).toEqual({
      code: SpanStatusCode.ERROR,
      message: `evaluator policy failed: ${redacted("policy feedback")}`,
    });
  });

  it("error messages are redacted on every span: model error, breaker trip, MCP client and server", () => {
    const s = spans();
    expect(one(s, "invoke_agent vault_model").status.message).toBe(redacted("provider rejected"));
    const budget = one(s, "invoke_agent vault_budget");
    expect(budget.status.message).toMatch(
      /^agentwarden: shared_budget breaker tripped: budget tenant-hourly for \[REDACTED_EMAIL\]: /,
    );
    const trips = s.flatMap((x) => x.events.filter((e) => e.name === "agentwarden.breaker.trip"));
    expect(trips).toHaveLength(2); // on the refused model call's step and on the task's root
    for (const e of trips)
      expect(String(e.attributes?.reason)).toMatch(/^budget tenant-hourly for \[REDACTED_EMAIL\]: /);
    const [resultCall, thrownCall] = s.filter(
      (x) => x.name === "tools/call vault_lookup" && x.kind === SpanKind.CLIENT,
    );
    expect(resultCall?.attributes["gen_ai.tool.call.arguments"]).toBe(
      JSON.stringify({ email: "[REDACTED_EMAIL]", mode: "result" }),
    );
    expect(resultCall?.attributes["gen_ai.tool.call.result"]).toBe(
      JSON.stringify([{ type: "text", text: redacted("mcp error result") }]),
    );
    expect(resultCall?.status).toEqual({ code: SpanStatusCode.ERROR, message: redacted("mcp error result") });
    expect(thrownCall?.status).toEqual({
      code: SpanStatusCode.ERROR,
      message: `MCP error -32603: ${redacted("mcp handler threw")}`,
    });
    const serverThrown = s.filter((x) => x.name === "tools/call vault_lookup" && x.kind === SpanKind.SERVER);
    expect(serverThrown.map((x) => x.status)).toEqual([
      { code: SpanStatusCode.ERROR },
      { code: SpanStatusCode.ERROR, message: redacted("mcp handler threw") },
    ]);
  });

  it("the JSONL run store holds no secret, and its error messages are the redacted ones", () => {
    const text = readFileSync(store, "utf8");
    expect(leaks(text)).toEqual([]);
    const { summaries, errors } = readStore(store);
    expect(errors).toEqual([]);
    const byAgent = new Map(summaries.map((x) => [x.agent, x] as const));
    expect([...byAgent.keys()].sort()).toEqual(["vault", "vault_budget", "vault_flow", "vault_model"]);
    expect(byAgent.get("vault")?.error).toEqual({
      type: "eval_failed",
      message: `evaluator policy failed: ${redacted("policy feedback")}`,
    });
    expect(stepErrors(byAgent.get("vault"))).toContainEqual({ type: "Error", message: redacted("no account for") });
    expect(byAgent.get("vault_model")?.error).toEqual({ type: "Error", message: redacted("provider rejected") });
    expect(byAgent.get("vault_budget")?.error?.message).toMatch(/for \[REDACTED_EMAIL\]: /);
    const flows = summaries.filter((x) => x.agent === "vault_flow");
    expect(flows.map((x) => x.outcome)).toEqual(["interrupted", "success"]);
    expect(stepErrors(flows[0])).toEqual([
      { type: "tool_error", message: redacted("mcp error result") },
      { type: "-32603", message: `MCP error -32603: ${redacted("mcp handler threw")}` },
    ]);
  });

  it("the dashboard's JSON data holds no secret, for the overview and every run", async () => {
    const dashboard = await serveDashboard(store, { port: 0 });
    try {
      const res = await fetch(new URL("api/data", dashboard.url));
      expect(res.headers.get("content-type")).toBe("application/json");
      const body = await res.text();
      expect(leaks(body)).toEqual([]);
      const data = JSON.parse(body) as DashboardData;
      expect(data.runs).toHaveLength(5);
      expect(data.runs.find((r) => r.agent === "vault_model")?.error).toBe(`Error: ${redacted("provider rejected")}`);
      for (const run of data.runs) {
        const r = await fetch(new URL(`api/runs/${encodeURIComponent(run.id)}`, dashboard.url));
        expect(r.status).toBe(200);
        const text = await r.text();
        expect(leaks(text)).toEqual([]);
        if (run.agent === "vault") expect(text).toContain(JSON.stringify(redacted("no account for")));
      }
    } finally {
      await dashboard.close();
    }
  });
});

function stepErrors(summary: TaskSummary | undefined) {
  return (summary?.steps ?? [])
    .filter((x) => x.e !== undefined && x.k !== "workflow" && x.k !== "agent")
    .map((x) => x.e);
}

describe("the redaction hook", () => {
  it("is called for every recorded field, content and errors alike, and nothing leaks", async () => {
    const { provider, spans } = memoryTracing();
    const fields = new Set<ContentField>();
    const redact: Redactor = (text, field) => {
      fields.add(field);
      return redactSecrets(text, field);
    };
    const warden = new Warden({ tracerProvider: provider, captureContent: true, redact, ...wardenOptions() });
    await runAll(warden, provider);
    expect([...fields].sort()).toEqual([
      "error.message",
      "gen_ai.evaluation.explanation",
      "gen_ai.input.messages",
      "gen_ai.output.messages",
      "gen_ai.system_instructions",
      "gen_ai.tool.call.arguments",
      "gen_ai.tool.call.result",
    ]);
    expect(leaks(exported(spans()))).toEqual([]);
  }, 30_000);

  it("with content capture off, still redacts every error message and eval reason (and captures nothing)", async () => {
    const { provider, spans } = memoryTracing();
    const fields = new Set<ContentField>();
    const redact: Redactor = (text, field) => {
      fields.add(field);
      return redactSecrets(text, field);
    };
    const store = join(mkdtempSync(join(tmpdir(), "aw-security-off-")), "runs.jsonl");
    const warden = new Warden({ tracerProvider: provider, redact, ...wardenOptions(store) });
    await runAll(warden, provider);
    await warden.shutdown();
    expect([...fields].sort()).toEqual(["error.message", "gen_ai.evaluation.explanation"]);
    const s = spans();
    expect(leaks(exported(s))).toEqual([]);
    expect(leaks(readFileSync(store, "utf8"))).toEqual([]);
    expect(s.flatMap((x) => Object.keys(x.attributes)).filter((k) => CONTENT_KEYS.includes(k))).toEqual([]);
    expect(one(s, "execute_tool charge").status.message).toBe(redacted("no account for"));
    expect(one(s, "eval policy").attributes["gen_ai.evaluation.explanation"]).toBe(redacted("policy feedback"));
  }, 30_000);

  it("a redactor that throws yields [REDACTION_FAILED] everywhere, is reported, and the agent still answers right", async () => {
    const { provider, spans } = memoryTracing();
    let calls = 0;
    const warden = new Warden({
      tracerProvider: provider,
      captureContent: true,
      recovery: {},
      redact: () => {
        calls++;
        throw new Error("redactor bug");
      },
      onError: () => undefined,
    });
    const seen: Seen = { tool: [], mcp: [] };
    const out = await runVault(warden, seen);
    expect(seen.tool).toEqual([plant("lookup args"), plant("charge args")]);
    // The model still got a corrective message it can act on, the detail withheld.
    const corrective = (out.messages as BaseMessage[]).find(
      (m) => m.getType() === "tool" && String(m.content).startsWith('Tool "charge" failed'),
    );
    expect(String(corrective?.content)).toMatch(/^Tool "charge" failed \(a permanent error\): \[REDACTION_FAILED\]\n/);
    const s = spans();
    expect(leaks(exported(s))).toEqual([]);
    const recorded = s.flatMap((x) =>
      Object.entries(x.attributes).filter(([k]) => CONTENT_KEYS.includes(k) || k === "gen_ai.evaluation.explanation"),
    );
    // 3 model calls (system instructions, input, output), lookup (arguments, result), charge
    // (arguments), 2 recovery messages (corrective, eval correction), 2 eval reasons (the failed
    // correction check, policy).
    expect(recorded.length).toBe(3 * 3 + 2 + 1 + 2 + 2);
    expect(recorded.filter(([, v]) => v !== "[REDACTION_FAILED]")).toEqual([]);
    const failed = s.filter((x) => x.status.code === SpanStatusCode.ERROR);
    expect(failed.map((x) => x.name).sort()).toEqual([
      "eval answer_check",
      "eval policy",
      "execute_tool charge",
      "invoke_agent vault",
    ]);
    expect(failed.every((x) => x.status.message === "[REDACTION_FAILED]")).toBe(true);
    expect(warden.stats().telemetryErrors).toEqual({ redact: calls });
    expect(calls).toBe(recorded.length + failed.length + 1); // + the corrective message's detail
  });
});

describe("the dashboard's surface", () => {
  const SCRIPT = "<script>alert(1)</script>";
  const IMG = `"><img src=x onerror=alert(1)>`;
  const agentName = `agent${SCRIPT}${IMG}`;

  it("binds 127.0.0.1 when given no host: reachable on loopback only", async () => {
    const store = join(mkdtempSync(join(tmpdir(), "aw-dash-bind-")), "runs.jsonl");
    const dashboard = await serveDashboard(store, { port: 0 });
    try {
      const url = new URL(dashboard.url);
      expect(url.hostname).toBe("127.0.0.1");
      expect(await reach("127.0.0.1", Number(url.port))).toBe("connected");
      const others = Object.values(networkInterfaces())
        .flat()
        .filter((a) => a !== undefined && !a.internal && a.family === "IPv4")
        .map((a) => a?.address as string);
      for (const address of others) expect(await reach(address, Number(url.port))).toBe("ECONNREFUSED");
    } finally {
      await dashboard.close();
    }
  });

  it("serves stored markup (agent name, tool error) only as JSON data, never in the page", async () => {
    const store = join(mkdtempSync(join(tmpdir(), "aw-dash-xss-")), "runs.jsonl");
    const warden = new Warden({ tracing: false, store });
    const evil = tool(
      async () => {
        throw new Error(`upstream said: ${SCRIPT}${IMG}`);
      },
      { name: "scrape", description: "Scrapes.", schema: z.object({ url: z.string() }) },
    );
    const llm = new ScriptedChatModel({
      model: "test-model",
      script: [{ toolCalls: [{ name: "scrape", args: { url: "https://example.org" } }] }, { content: "never" }],
    });
    const agent = wrapGraph(
      createReactAgent({ llm, tools: new ToolNode([evil], { handleToolErrors: false }), name: "scraper" }),
      { warden, name: agentName },
    );
    await expect(agent.invoke(user("scrape it"))).rejects.toThrow(SCRIPT);
    await warden.shutdown();

    const dashboard = await serveDashboard(store, { port: 0 });
    try {
      const page = await fetch(dashboard.url);
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(page.headers.get("x-content-type-options")).toBe("nosniff");
      const csp = page.headers.get("content-security-policy") ?? "";
      expect(csp).toMatch(/^default-src 'none'; script-src 'nonce-[A-Za-z0-9+/=]+'; /);
      const html = await page.text();
      for (const bad of [SCRIPT, IMG, "alert(1)", "onerror", "upstream said"]) expect(html).not.toContain(bad);

      const dataRes = await fetch(new URL("api/data", dashboard.url));
      expect(dataRes.headers.get("content-type")).toBe("application/json");
      expect(dataRes.headers.get("x-content-type-options")).toBe("nosniff");
      const data = (await dataRes.json()) as DashboardData;
      expect(data.runs.map((r) => [r.agent, r.error])).toEqual([[agentName, `Error: upstream said: ${SCRIPT}${IMG}`]]);

      const runRes = await fetch(new URL(`api/runs/${encodeURIComponent(data.runs[0]?.id ?? "")}`, dashboard.url));
      expect(runRes.headers.get("content-type")).toBe("application/json");
      const run = (await runRes.json()) as TaskSummary;
      expect(run.agent).toBe(agentName);
      expect(run.steps.find((x) => x.k === "tool")?.e).toEqual({
        type: "Error",
        message: `upstream said: ${SCRIPT}${IMG}`,
      });

      // A path carrying markup is not reflected.
      for (const path of [`/${encodeURIComponent(SCRIPT)}`, `/api/runs/${encodeURIComponent(SCRIPT)}`]) {
        const r = await fetch(new URL(path, dashboard.url));
        expect(r.status).toBe(404);
        expect(await r.text()).toBe("");
      }
    } finally {
      await dashboard.close();
    }
  });
});

/** Opens a TCP connection: "connected", or the error code. */
function reach(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 2_000 });
    socket.once("connect", () => {
      socket.destroy();
      resolve("connected");
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolve("timeout");
    });
    socket.once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "error"));
  });
}

describe("the cut before redaction", () => {
  it("never keeps a fragment of a secret cut at the margin, even when redactions before it shrink the text", () => {
    // 16 bearer tokens of ~1 KB shrink by ~16 KB when redacted; a key is cut in two by the
    // maxLength + REDACTION_MARGIN boundary, and its unmatched head must not move into the kept part.
    const tokens = Array.from({ length: 16 }, (_, i) => `Bearer ${String(i).padStart(2, "0")}${"x".repeat(998)}`).join(
      " ",
    );
    const maxLength = 16_384;
    const boundary = maxLength + REDACTION_MARGIN;
    const filler = " ".repeat(boundary - 12 - tokens.length);
    const text = `${tokens}${filler}sk-proj-${"K".repeat(30)} tail`;
    expect(text.indexOf("sk-proj-")).toBe(boundary - 12); // the cut falls inside the key
    const kept = captureText(text, "gen_ai.tool.call.result", redactSecrets, maxLength, () => {
      throw new Error("no redaction error expected");
    });
    expect(kept.endsWith("…[truncated]")).toBe(true);
    expect(kept).not.toContain("sk-proj");
    expect(kept).not.toContain("xxxx");
    expect(kept.startsWith("Bearer [REDACTED_TOKEN] Bearer [REDACTED_TOKEN]")).toBe(true);
  });
});
