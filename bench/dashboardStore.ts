/**
 * Writes a run store for the dashboard benchmark: `runs` task summaries of about 2 KB each (as real
 * ones), spread over the week before now, with 8 agents, 3 versions, 6 tools, 3 models, failures,
 * recoveries, trips, threads and captured inputs. Deterministic for a given `runs`.
 *
 *   npx tsx bench/dashboardStore.ts PATH [runs]
 */
import { closeSync, openSync, writeSync } from "node:fs";
import type { StepRecord, TaskSummary } from "agentwarden";

const AGENTS = ["planner", "researcher", "writer", "support", "triage", "billing", "coder", "reviewer"];
const VERSIONS = ["2026.11.1", "2026.11.2", "2026.11.3"];
const TOOLS = ["search", "fetch_page", "read_file", "sql_query", "send_email", "calendar"];
const MODELS = ["gpt-4.1-mini", "claude-sonnet-4", "gemini-2.5-flash"];
const TOPICS = ["invoice", "flight", "refund", "quarterly report", "outage", "contract", "onboarding", "pricing"];
const WEEK = 7 * 24 * 3_600_000;

/** A small deterministic pseudo-random sequence (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function benchTask(i: number, runs: number, now: number): TaskSummary & { version: string } {
  const r = random(i + 1);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)] as T;
  const agent = AGENTS[i % AGENTS.length] as string;
  const model = pick(MODELS);
  const topic = pick(TOPICS);
  const toolFails = r() < 0.12;
  const recovered = toolFails && r() < 0.6;
  const trip = r() < 0.02;
  const success = !trip && !(toolFails && !recovered) && r() > 0.05;
  const steps: StepRecord[] = [{ p: -1, k: "agent", n: agent, t: 0, d: 0, s: success ? "ok" : "error" }];
  const tools: TaskSummary["tools"] = {};
  let t = 1;
  for (let turn = 0; turn < 4; turn++) {
    const node = steps.length;
    steps.push({ p: 0, k: "node", n: "agent", t, d: 40, s: "ok" });
    steps.push({ p: node, k: "chat", n: model, t: t + 1, d: 38, s: "ok", tok: [800 + turn * 300, 120], usd: 0.0011 });
    t += 41;
    if (turn === 3) break;
    const tool = pick(TOOLS);
    const tn = steps.length;
    steps.push({ p: 0, k: "node", n: "tools", t, d: 25, s: "ok" });
    const failed = toolFails && turn === 0;
    steps.push({
      p: tn,
      k: "tool",
      n: tool,
      t: t + 1,
      d: 22,
      s: failed ? "error" : "ok",
      ...(failed
        ? {
            e: {
              type: pick(["TimeoutError", "HTTPError", "ValidationError"]),
              message: `${tool} failed on ${topic} #${i % 997}`,
            },
          }
        : {}),
    });
    const f = tools[tool] ?? { calls: 0, completed: 0, failures: 0, recovered: 0, costUsd: 0, durationMs: 0 };
    f.calls++;
    f.durationMs += 22;
    if (failed) {
      f.failures++;
      if (recovered) f.recovered++;
    } else f.completed++;
    tools[tool] = f;
    t += 26;
  }
  (steps[0] as StepRecord).d = t;
  const start = now - WEEK + Math.floor((i / runs) * WEEK);
  const s: TaskSummary & { version: string } = {
    v: 1,
    id: `${i.toString(16).padStart(8, "0")}-${Math.floor(r() * 0xffff).toString(16)}-4aa0-9b1c-${(i * 7919).toString(16).padStart(12, "0")}`,
    agent,
    kind: "agent",
    outcome: success ? "success" : "failure",
    start,
    durationMs: t,
    conversationId: `thread-${i % 5003}`,
    costUsd: 0.0044,
    costUnknownCalls: 0,
    estimatedUsageCalls: 0,
    tokens: { input: 4600, output: 480, cacheRead: 0, cacheWrite: 0 },
    subtasks: 3,
    completedSubtasks: success ? 3 : toolFails ? 2 : 3,
    failures: { tool: toolFails ? 1 : 0, model: 0, eval: 0 },
    recovered: { tool: recovered ? 1 : 0, model: 0, eval: 0 },
    recoveredInjected: { tool: recovered ? 1 : 0, model: 0, eval: 0 },
    trips: trip ? { loop: 1 } : {},
    retries: recovered ? 1 : 0,
    tools,
    models: {
      [model]: {
        calls: 4,
        failures: 0,
        recovered: 0,
        tokens: { input: 4600, output: 480, cacheRead: 0, cacheWrite: 0 },
        costUsd: 0.0044,
        costUnknownCalls: 0,
        estimatedUsageCalls: 0,
      },
    },
    nodes: { agent: { runs: 4, failures: 0, durationMs: 160 }, tools: { runs: 3, failures: 0, durationMs: 75 } },
    steps,
    input: `Please handle the ${topic} request from customer ${i % 10007}: check the records and reply.`,
    answer: success ? `Done: the ${topic} request is handled.` : "I could not finish this.",
    version: VERSIONS[Math.floor((i / runs) * VERSIONS.length)] as string,
  };
  if (trip) s.error = { type: "BREAKER_TRIP", message: "agentwarden: loop breaker tripped: search called 5 times" };
  else if (!success) s.error = { type: "TaskError", message: `could not finish the ${topic} request` };
  return s;
}

/** Writes the store in blocks; returns its size in bytes. */
export function writeDashboardStore(path: string, runs: number, now = Date.now()): number {
  const fd = openSync(path, "w");
  let bytes = 0;
  try {
    let block: string[] = [];
    for (let i = 0; i < runs; i++) {
      block.push(JSON.stringify(benchTask(i, runs, now)));
      if (block.length === 2000 || i === runs - 1) {
        const text = `${block.join("\n")}\n`;
        bytes += Buffer.byteLength(text);
        writeSync(fd, text);
        block = [];
      }
    }
  } finally {
    closeSync(fd);
  }
  return bytes;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [path, runs] = process.argv.slice(2);
  if (!path) throw new Error("usage: npx tsx bench/dashboardStore.ts PATH [runs]");
  const bytes = writeDashboardStore(path, Number(runs ?? 200_000));
  console.log(`${path}: ${(bytes / 1e6).toFixed(0)} MB`);
}
