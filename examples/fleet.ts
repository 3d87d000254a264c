// Many workers, one set of limits: 4 worker processes, each its own Warden, share a tenant's budget
// and a per-model rate limit through Redis (agentwarden/redis). Uses $REDIS_URL, else starts a
// throwaway redis-server (Debian's package) on a free loopback port.
//
//   npm run example:fleet
import { type ChildProcess, fork, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { isBreakerTrip, Warden } from "agentwarden";
import { wrapGraph } from "agentwarden/langgraph";
import { connectRedis } from "agentwarden/redis";
import { ScriptedChatModel } from "agentwarden/testing";

const WORKERS = 4;
const TASKS = 5;
const BUDGET = 0.021; // USD per tenant per day; each call's worst case (and actual cost) is $0.002

async function worker(url: string): Promise<void> {
  const { store, close } = await connectRedis(url, { onUnavailable: "failOpen", timeoutMs: 250 });
  const warden = new Warden({
    tracing: false,
    state: store, // budgets, rate limits and tool breakers live in Redis
    prices: { "gpt-4o-mini": { input: 0, output: 2 } }, // USD per million tokens
    defaultMaxOutputTokens: 1000,
    sharedBudgets: [{ name: "tenant-daily", key: "tenant", maxCostUsd: BUDGET, windowMs: 86_400_000 }],
    rateLimits: [{ name: "mini-rpm", key: "model", requestsPerMinute: 600, maxWaitMs: 2000 }],
  });
  let done = 0;
  let refused = 0;
  for (let i = 0; i < TASKS; i++) {
    const llm = new ScriptedChatModel({
      model: "gpt-4o-mini",
      script: [{ content: "done", usage: { input: 50, output: 1000 }, delayMs: 50 }],
    });
    const agent = wrapGraph(createReactAgent({ llm, tools: [] }), { warden });
    try {
      await agent.invoke(
        { messages: [{ role: "user", content: "hi" }] },
        { configurable: { agentwarden: { tenant: "acme" } } },
      );
      done++;
    } catch (error) {
      if (!isBreakerTrip(error)) throw error;
      refused++;
    }
  }
  process.send?.({ done, refused, fleet: warden.metrics?.snapshot().fleet, fallbacks: store.fallbacks });
  await warden.shutdown();
  await close();
}

async function startRedis(): Promise<{ url: string; stop: () => void }> {
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const dir = mkdtempSync(join(tmpdir(), "aw-fleet-"));
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  await new Promise<void>((resolve, reject) => {
    let out = "";
    child.once("error", () => reject(new Error("redis-server not found: set REDIS_URL or install redis-server")));
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("Ready to accept connections")) resolve();
    });
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: () => {
      child.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function main(): Promise<void> {
  const redis = process.env.REDIS_URL ? { url: process.env.REDIS_URL, stop: () => {} } : await startRedis();
  try {
    const children: ChildProcess[] = Array.from({ length: WORKERS }, () =>
      fork(process.argv[1] as string, ["--worker", redis.url]),
    );
    const reports = await Promise.all(
      children.map(
        (c) =>
          new Promise<{ done: number; refused: number }>((resolve, reject) => {
            c.once("message", (m) => resolve(m as { done: number; refused: number }));
            c.once("exit", (code) => code !== 0 && reject(new Error(`worker exited ${code}`)));
          }),
      ),
    );
    const done = reports.reduce((n, r) => n + r.done, 0);
    const refused = reports.reduce((n, r) => n + r.refused, 0);
    console.log(`${WORKERS} workers × ${TASKS} tasks on one tenant budget of $${BUDGET}:`);
    console.log(`  calls made ${done} (spent $${(done * 0.002).toFixed(3)}), refused by the shared budget ${refused}`);
    console.log(
      `  without a shared store each worker would have had its own $${BUDGET}: ${WORKERS * TASKS} calls, $${(WORKERS * TASKS * 0.002).toFixed(3)}`,
    );
  } finally {
    redis.stop();
  }
}

if (process.argv[2] === "--worker") await worker(process.argv[3] as string);
else await main();
