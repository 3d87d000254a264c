/**
 * The main demo (`npm run demo`): realistic agents — scripted models, so no API key is needed,
 * real tools including a real MCP filesystem server over stdio — run a batch of tasks with
 * successes, tool failures recovered and not, an eval correction, a loop that trips and a budget
 * that trips. Prints progress, the ASF/ERR/CPCS table and one task's step tree, writes the runs to
 * a local store, then serves the dashboard on 127.0.0.1.
 *
 *   npm run demo                  # then open the printed URL
 *   npm run demo -- --no-serve    # CI: run the batch, print, exit
 *   npm run demo -- --real        # the same agents on a real model (OPENAI_API_KEY or ANTHROPIC_API_KEY)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { StructuredToolInterface } from "@langchain/core/tools";
import { tool } from "@langchain/core/tools";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { MultiServerMCPClient } from "@langchain/mcp-adapters";
import {
  aggregate,
  formatReport,
  formatSteps,
  isBreakerTrip,
  readStore,
  schemaCheck,
  serveDashboard,
  type TaskSummary,
  Warden,
} from "agentwarden";
import { type Correction, wrapGraph } from "agentwarden/langgraph";
import { instrumentMcp } from "agentwarden/mcp";
import { type Script, ScriptedChatModel } from "agentwarden/testing";
import { z } from "zod";

const args = process.argv.slice(2);
const serve = !args.includes("--no-serve");
const real = args.includes("--real");
const storePath = resolve(args.find((a) => a.startsWith("--store="))?.slice(8) ?? ".agentwarden/demo-runs.jsonl");

// A fresh store for each demo run, and a workspace of files for the MCP filesystem server.
mkdirSync(dirname(storePath), { recursive: true });
rmSync(storePath, { force: true });
const workspace = mkdtempSync(join(tmpdir(), "agentwarden-demo-"));
writeFileSync(join(workspace, "q3-report.md"), "Q3 revenue: 4.2M EUR (+12% QoQ). Churn: 2.1%. Top region: DACH.");
writeFileSync(join(workspace, "roadmap.md"), "Q4: ship the billing API, SOC 2 audit, EU data residency.");

instrumentMcp();
const warden = new Warden({
  store: storePath,
  recovery: { retry: { maxAttempts: 3, initialDelayMs: 20, maxDelayMs: 100 } },
  loops: { repeats: 3, stop: true },
  limits: { maxCostUsd: 0.05, maxToolCalls: 30 },
  onError: (error, source) => console.error(`telemetry failure in ${source}: ${String(error)}`),
});

const mcp = new MultiServerMCPClient({
  mcpServers: {
    files: {
      transport: "stdio",
      command: process.execPath,
      args: [join(process.cwd(), "node_modules/@modelcontextprotocol/server-filesystem/dist/index.js"), workspace],
      stderr: "ignore",
    },
  },
});
const fileTools = (await mcp.getTools()).filter((t) => ["read_text_file", "list_directory"].includes(t.name));

// Local tools: a flaky web search (503 now and then), an order lookup with a strict schema.
let searches = 0;
const webSearch = tool(
  async ({ query }: { query: string }) => {
    searches++;
    if (searches % 4 === 1) throw new Error("503 Service Unavailable (search backend overloaded)");
    return `Top result for "${query}": a 2026 industry survey puts SaaS net revenue retention at 108% (median).`;
  },
  { name: "web_search", description: "Searches the web.", schema: z.object({ query: z.string() }) },
);
const lookupOrder = tool(
  async ({ order_id }: { order_id: number }) => {
    if (order_id === 404) throw new Error(`Order ${order_id} not found`);
    return `Order ${order_id}: shipped on 2026-11-18, arriving 2026-11-24.`;
  },
  {
    name: "lookup_order",
    description: "Looks up an order by its numeric id.",
    schema: z.object({ order_id: z.number().int() }),
  },
);

const tools: StructuredToolInterface[] = [...fileTools, webSearch, lookupOrder];

/** A scripted model for one task, or the real model with --real. */
async function modelFor(script: Script, model: string): Promise<BaseChatModel> {
  if (!real)
    return new ScriptedChatModel({ script, model, provider: model.startsWith("claude") ? "anthropic" : "openai" });
  if (process.env.OPENAI_API_KEY) {
    const { ChatOpenAI } = (await import(/* optional */ "@langchain/openai" as string)) as {
      ChatOpenAI: new (o: object) => BaseChatModel;
    };
    return new ChatOpenAI({ model: "gpt-4o-mini" });
  }
  if (process.env.ANTHROPIC_API_KEY) {
    const { ChatAnthropic } = (await import("@langchain/anthropic" as string)) as {
      ChatAnthropic: new (o: object) => BaseChatModel;
    };
    return new ChatAnthropic({ model: "claude-haiku-4-5" });
  }
  throw new Error(
    "--real needs OPENAI_API_KEY or ANTHROPIC_API_KEY, and `npm install @langchain/openai` (or @langchain/anthropic)",
  );
}

const usage = (input: number, output: number, cacheRead = 0) => ({ input, output, cacheRead });
const lastTool = (m: Parameters<Exclude<Script, unknown[]>>[0]) => m.filter((x) => x.getType() === "tool").at(-1);

interface Task {
  agent: string;
  model: string;
  ask: string;
  script: Script;
  corrections?: Correction[];
  limits?: Record<string, number>;
}

const answerJson = schemaCheck("answer_is_json", z.object({ answer: z.string(), confidence: z.number() }));

const batch: Task[] = [
  {
    agent: "researcher",
    model: "gpt-4o-mini",
    ask: "Summarise our Q3 report.",
    script: (m) =>
      lastTool(m)
        ? { content: `Q3 summary: ${String(lastTool(m)?.content).slice(0, 80)}`, usage: usage(900, 60, 512) }
        : {
            toolCalls: [{ name: "read_text_file", args: { path: join(workspace, "q3-report.md") } }],
            usage: usage(620, 30),
          },
  },
  {
    agent: "researcher",
    model: "gpt-4o-mini",
    ask: "What is a good net revenue retention for SaaS?",
    // web_search fails with a 503 on its first call: agentwarden retries it (an injected recovery).
    script: (m) =>
      lastTool(m)
        ? { content: "About 108% is the 2026 median.", usage: usage(800, 40) }
        : {
            toolCalls: [{ name: "web_search", args: { query: "SaaS net revenue retention benchmark" } }],
            usage: usage(500, 25),
          },
  },
  {
    agent: "researcher",
    model: "gpt-4o-mini",
    ask: "What is on the roadmap?",
    // The model asks for a file that does not exist (an MCP isError result), reads the corrective
    // message, lists the directory and finds the right one: recovered.
    script: (m) => {
      const t = lastTool(m);
      const text = String(t?.content ?? "");
      if (!t)
        return {
          toolCalls: [{ name: "read_text_file", args: { path: join(workspace, "roadmap-2026.md") } }],
          usage: usage(540, 30),
        };
      if (text.includes("failed"))
        return { toolCalls: [{ name: "list_directory", args: { path: workspace } }], usage: usage(700, 25) };
      if (text.includes("roadmap.md") && !text.includes("Q4"))
        return {
          toolCalls: [{ name: "read_text_file", args: { path: join(workspace, "roadmap.md") } }],
          usage: usage(760, 25),
        };
      return { content: `Roadmap: ${text}`, usage: usage(900, 50, 640) };
    },
  },
  {
    agent: "support",
    model: "claude-haiku-4-5",
    ask: "Where is order 1042?",
    // First call with a string id: the schema rejects it, the corrective message shows the schema,
    // and the model fixes its own call.
    script: (m) => {
      const t = lastTool(m);
      if (!t) return { toolCalls: [{ name: "lookup_order", args: { order_id: "#1042" } }], usage: usage(410, 20) };
      if (String(t.content).includes("Expected arguments"))
        return { toolCalls: [{ name: "lookup_order", args: { order_id: 1042 } }], usage: usage(650, 20) };
      return { content: String(t.content), usage: usage(720, 30) };
    },
  },
  {
    agent: "support",
    model: "claude-haiku-4-5",
    ask: "Where is order 404?",
    // A permanent failure nobody can fix: the agent apologises. A failure not recovered.
    script: (m) =>
      lastTool(m)
        ? { content: "Sorry, I cannot find order 404.", usage: usage(600, 25) }
        : { toolCalls: [{ name: "lookup_order", args: { order_id: 404 } }], usage: usage(400, 20) },
  },
  {
    agent: "analyst",
    model: "gpt-4o-mini",
    ask: "Give me the top region as JSON.",
    // The first answer is prose; the JSON check fails, a corrective message asks again, the model complies.
    corrections: [{ evaluators: [answerJson], maxAttempts: 3 }],
    script: (m) => {
      const t = lastTool(m);
      const corrected = m.some((x) => x.getType() === "human" && x.name === "agentwarden");
      if (!t)
        return {
          toolCalls: [{ name: "read_text_file", args: { path: join(workspace, "q3-report.md") } }],
          usage: usage(500, 30),
        };
      if (!corrected) return { content: "The top region is DACH.", usage: usage(820, 15) };
      return { content: '{"answer": "DACH", "confidence": 0.9}', usage: usage(880, 20) };
    },
  },
  {
    agent: "crawler",
    model: "gpt-4o-mini",
    ask: "Find every competitor's pricing.",
    // Searches the same thing over and over: a hint, then the loop breaker trips.
    script: () => ({
      toolCalls: [{ name: "web_search", args: { query: "competitor pricing page" } }],
      usage: usage(700, 30),
    }),
  },
  {
    agent: "analyst",
    model: "gpt-4o",
    ask: "Write a 50-page market study.",
    // A per-task budget of $0.08 on a pricier model: after a few calls the guard refuses the one
    // whose worst case (its input and up to 4096 output tokens) could cross it.
    limits: { maxCostUsd: 0.08 },
    script: (_m, i) => ({
      toolCalls: [{ name: "web_search", args: { query: `market study section ${i}` } }],
      usage: usage(1800, 300),
    }),
  },
  {
    agent: "researcher",
    model: "gpt-4o-mini",
    ask: "List the workspace.",
    script: (m) =>
      lastTool(m)
        ? { content: `Files: ${String(lastTool(m)?.content)}`, usage: usage(500, 40) }
        : { toolCalls: [{ name: "list_directory", args: { path: workspace } }], usage: usage(380, 20) },
  },
];

console.log(
  `agentwarden demo: ${batch.length} tasks, ${real ? "a real model" : "scripted models"}, MCP filesystem server over stdio\n`,
);
const summaries: TaskSummary[] = [];
warden.onTaskEnd((run) => summaries.push(run.summary()));
for (const [i, task] of batch.entries()) {
  const llm = await modelFor(task.script, task.model);
  const agent = wrapGraph(createReactAgent({ llm, tools, name: task.agent }), {
    warden,
    ...(task.corrections ? { corrections: task.corrections } : {}),
  });
  let note = "";
  try {
    await agent.invoke(
      { messages: [{ role: "user", content: task.ask }] },
      {
        recursionLimit: 60,
        configurable: { thread_id: `demo-${i}`, ...(task.limits ? { agentwarden: { limits: task.limits } } : {}) },
      },
    );
  } catch (error) {
    note = isBreakerTrip(error)
      ? `stopped: ${error.data.kind} breaker (${error.data.reason})`
      : `threw: ${(error as Error).message}`;
  }
  const s = summaries.at(-1);
  if (!s) continue;
  const mark = s.outcome === "success" ? "✓" : "✗";
  const recovered = s.recovered.tool + s.recovered.model + s.recovered.eval;
  const failures = s.failures.tool + s.failures.model + s.failures.eval;
  console.log(
    `${mark} ${String(i + 1).padStart(2)}  ${task.agent.padEnd(10)} ${s.outcome.padEnd(8)} ${String(s.completedSubtasks).padStart(2)}/${String(s.subtasks).padEnd(2)} subtasks  ` +
      `${failures} failures, ${recovered} recovered  $${s.costUsd.toFixed(5)}  ${task.ask}${note ? `\n        ${note}` : ""}`,
  );
}
await mcp.close();
await warden.shutdown();

// The figures, read back from the store the dashboard serves: what is printed is what was stored.
const read = readStore(storePath);
console.log(`\n${formatReport(aggregate(read.summaries), read.errors)}`);
const interesting = read.summaries.find((s) => s.recoveredInjected.eval > 0) ?? read.summaries[0];
if (interesting)
  console.log(`\nsteps of one task (${interesting.agent}, an eval correction):\n${formatSteps(interesting)}`);
console.log(`\nruns written to ${storePath}`);

if (serve) {
  const dashboard = await serveDashboard(storePath, { port: Number(process.env.AGENTWARDEN_PORT ?? 5317) });
  console.log(`\ndashboard: ${dashboard.url}   (Ctrl-C to stop)`);
} else {
  rmSync(workspace, { recursive: true, force: true });
}
