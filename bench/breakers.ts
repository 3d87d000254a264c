import { tool } from "@langchain/core/tools";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { isBreakerTrip, type Run, type TaskGuard, Warden } from "agentwarden";
import { wrapGraph } from "agentwarden/langgraph";
import { ScriptedChatModel } from "agentwarden/testing";
import { z } from "zod";
import { quantile, round } from "./harness.js";

export interface BreakersFigures {
  /** Nanoseconds per agent step (node + tool check + model checks before and after) spent deciding. */
  decisionNsPerStep: number;
  overshoot: {
    description: string;
    tasks: number;
    budgetUsd: number;
    tripped: number;
    /** Overshoot past the budget as a fraction of it, over all tasks (0 for tasks that stayed under). */
    median: number;
    p99: number;
    max: number;
  };
}

/** Deterministic pseudo-random numbers (mulberry32), so runs are comparable. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function decisionCost(): number {
  const warden = new Warden({
    tracing: false,
    metrics: false,
    limits: { maxCostUsd: 1e9, maxTokens: 1e12, maxSteps: 1e9, maxToolCalls: 1e9 },
  });
  const run = warden.startTask("agent", { name: "bench" });
  const guard = run.guard ?? (warden.guard(run, undefined, { agent: "bench" }) as TaskGuard);
  const node = run.start("node", "agent", run.root);
  const estimate = { model: "gpt-4o-mini", inputTokens: 1200, maxOutputTokens: 512 };
  const steps = 200_000;
  const start = performance.now();
  for (let i = 0; i < steps; i++) {
    guard.beforeNode(node);
    guard.beforeTool(node, "search", { q: `query ${i}`, limit: 10 });
    guard.beforeModel(node, estimate);
    guard.afterModel(node, "gpt-4o-mini", { input: 1200, output: 200 });
  }
  const ns = ((performance.now() - start) * 1e6) / steps;
  guard.dispose();
  return Math.round(ns);
}

export async function breakersBench(tasks: number): Promise<BreakersFigures> {
  const budgetUsd = 0.02;
  const prices = { "bench-model": { input: 1, output: 2 } };
  const warden = new Warden({ tracing: false, prices, limits: { maxCostUsd: budgetUsd }, defaultMaxOutputTokens: 500 });
  const costs: number[] = [];
  warden.onTaskEnd((run: Run) => costs.push(run.summary().costUsd));
  const rand = random(42);
  const fetchPage = tool(
    async ({ url }: { url: string }) => `${url}: ${"lorem ipsum dolor sit amet ".repeat(40 + Math.floor(rand() * 80))}`,
    {
      name: "fetch_page",
      description: "Fetches a page.",
      schema: z.object({ url: z.string() }),
    },
  );
  let tripped = 0;
  for (let t = 0; t < tasks; t++) {
    const llm = new ScriptedChatModel({
      model: "bench-model",
      script: (messages, i) => {
        const chars = messages.reduce((n, m) => n + String(m.content).length, 0);
        // A real tokenizer lands within about ±25% of characters/4; output varies up to the call's limit.
        const input = Math.round((chars / 4) * (0.8 + rand() * 0.45));
        const output = 50 + Math.floor(rand() * 451);
        return i < 40
          ? {
              toolCalls: [{ name: "fetch_page", args: { url: `https://example.org/${t}/${i}` } }],
              usage: { input, output },
            }
          : { content: "done", usage: { input, output } };
      },
    });
    const agent = wrapGraph(createReactAgent({ llm, tools: [fetchPage], name: "budgeted" }), { warden });
    try {
      await agent.invoke({ messages: [{ role: "user", content: "research" }] }, { recursionLimit: 200 });
    } catch (error) {
      if (!isBreakerTrip(error)) throw error;
      tripped++;
    }
  }
  const overshoots = costs.map((c) => Math.max(0, c - budgetUsd) / budgetUsd).sort((a, b) => a - b);
  return {
    decisionNsPerStep: decisionCost(),
    overshoot: {
      description: `${tasks} scripted ReAct tasks with random token counts (input within ±25% of characters/4, output 50–500) under a $${budgetUsd} budget`,
      tasks,
      budgetUsd,
      tripped,
      median: round(quantile(overshoots, 0.5), 5),
      p99: round(quantile(overshoots, 0.99), 5),
      max: round(overshoots[overshoots.length - 1] ?? 0, 5),
    },
  };
}
