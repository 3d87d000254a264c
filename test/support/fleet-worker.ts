// One worker of the fleet tests: its own process, its own Warden, on the test's Redis. Driven by the
// test over IPC (process.send), so that every phase is sequenced by messages, not by timing.
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { wrapGraph } from "../../adapters/langgraph/index.js";
import { connectRedis, type RedisStateStore } from "../../adapters/redis/index.js";
import { ScriptedChatModel } from "../../adapters/testing/index.js";
import { isBreakerTrip, type Run, type Step, Warden } from "../../src/index.js";

type Msg = Record<string, unknown> & { cmd: string };

let store: RedisStateStore;
let close: () => Promise<void>;
let warden: Warden;
/** The same limits on this process's memory (the benchmark's in-process variant). */
let localWarden: Warden;
let client: { isReady: boolean } | undefined;
let backendCalls = 0;
let release: (() => void) | undefined;
const events: string[] = [];

const reply = (m: Record<string, unknown>) => process.send?.(m);

function budgetEvents(step: Step): void {
  for (const e of step.events ?? []) {
    if (e.name === "agentwarden.budget.reserve") events.push(String(e.attributes?.["agentwarden.budget.outcome"]));
  }
  for (const c of step.children) budgetEvents(c);
}

async function init(m: Msg): Promise<void> {
  ({ store, close } = await connectRedis(String(m.url), {
    onUnavailable: m.mode === "failClosed" ? "failClosed" : "failOpen",
    timeoutMs: 200,
    maxReconnectDelayMs: 200,
    prefix: String(m.prefix ?? "aw:"),
  }));
  client = store.client as unknown as { isReady: boolean };
  warden = new Warden({
    tracing: false,
    metrics: false,
    loops: false,
    state: store,
    prices: { "test-model": { input: Number(m.inputPrice ?? 0), output: 2 } },
    defaultMaxOutputTokens: Number(m.maxOutput ?? 1000),
    ...(m.budget
      ? { sharedBudgets: [{ name: "tenant-daily", key: "tenant", maxCostUsd: Number(m.budget), windowMs: 86_400_000 }] }
      : {}),
    ...(m.rpm ? { rateLimits: [{ name: "rpm", key: "model" as const, requestsPerMinute: Number(m.rpm) }] } : {}),
    ...(m.breaker ? { toolBreaker: m.breaker as { consecutiveFailures: number; halfOpenAfterMs: number } } : {}),
  });
  warden.onTaskEnd((run: Run) => budgetEvents(run.root));
  localWarden = new Warden({
    tracing: false,
    metrics: false,
    loops: false,
    prices: { "test-model": { input: Number(m.inputPrice ?? 0), output: 2 } },
    defaultMaxOutputTokens: Number(m.maxOutput ?? 1000),
    ...(m.budget
      ? { sharedBudgets: [{ name: "tenant-daily", key: "tenant", maxCostUsd: Number(m.budget), windowMs: 86_400_000 }] }
      : {}),
    ...(m.rpm ? { rateLimits: [{ name: "rpm", key: "model" as const, requestsPerMinute: Number(m.rpm) }] } : {}),
  });
}

async function tasks(m: Msg): Promise<void> {
  const results: Array<{ ok: boolean; kind?: string; reason?: string; cause?: string }> = [];
  const started = performance.now();
  for (let i = 0; i < Number(m.n); i++) {
    const llm = new ScriptedChatModel({
      model: "test-model",
      script: [
        {
          content: "done",
          usage: { input: Number(m.input ?? 0), output: Number(m.output) },
          delayMs: Number(m.delayMs ?? 0),
        },
      ],
    });
    // `bare`: the same agent without agentwarden (the benchmark's baseline).
    const graph = createReactAgent({ llm, tools: [] });
    const agent = m.bare ? graph : wrapGraph(graph, { warden: m.local ? localWarden : warden });
    try {
      await agent.invoke(
        { messages: [{ role: "user", content: "x" }] },
        { configurable: { agentwarden: { tenant: "acme" } } },
      );
      results.push({ ok: true });
    } catch (error) {
      if (!isBreakerTrip(error)) throw error;
      const cause = (error.cause as { code?: string } | undefined)?.code;
      results.push({ ok: false, kind: error.data.kind, reason: error.data.reason, ...(cause ? { cause } : {}) });
    }
  }
  const ms = performance.now() - started;
  reply({ reply: "tasks", results, ms, fallbacks: store.fallbacks, events: events.splice(0) });
}

async function tool(m: Msg): Promise<void> {
  const breakers = warden.toolBreakers;
  if (!breakers) throw new Error("no tool breaker");
  let outcome: string;
  try {
    await breakers.execute("api", async () => {
      backendCalls++;
      if (m.hold) {
        reply({ reply: "probing" });
        await new Promise<void>((r) => (release = r));
      }
      if (m.fail) throw new Error("503 Service Unavailable");
      return "200 OK";
    });
    outcome = "ok";
  } catch (error) {
    outcome = (error as { code?: string }).code === "TOOL_BREAKER_OPEN" ? "refused" : "failed";
  }
  reply({ reply: "tool", outcome, state: breakers.state("api"), backendCalls });
}

async function take(m: Msg): Promise<void> {
  const admitted: number[] = [];
  let attempts = 0;
  const end = Date.now() + Number(m.ms);
  while (Date.now() < end) {
    attempts++;
    const t = await store.take("rate-test", 1, Number(m.limit), Number(m.periodMs), Date.now());
    if (t.ok) admitted.push(t.at);
  }
  reply({ reply: "take", admitted, attempts });
}

process.on("message", (m: Msg) => {
  const run = async () => {
    if (m.cmd === "init") {
      await init(m);
      reply({ reply: "ready" });
    } else if (m.cmd === "tasks") await tasks(m);
    else if (m.cmd === "tool") await tool(m);
    else if (m.cmd === "release") release?.();
    else if (m.cmd === "take") await take(m);
    else if (m.cmd === "waitReady") {
      const end = Date.now() + 15_000;
      while (!client?.isReady && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      reply({ reply: "waitReady", ready: client?.isReady === true });
    } else if (m.cmd === "exit") {
      await warden.shutdown();
      await localWarden.shutdown();
      await close();
      process.disconnect();
    }
  };
  run().catch((error: unknown) => reply({ reply: "error", error: String((error as Error)?.stack ?? error) }));
});
// Orphaned (the test process died): exit rather than linger.
process.on("disconnect", () => process.exit(0));
reply({ reply: "started" });
