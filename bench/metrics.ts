import type { Run } from "agentwarden";
import { Warden } from "agentwarden";
import { quantile, round } from "./harness.js";

export interface MetricsFigures {
  description: string;
  /** Step events (start + end) aggregated per second, ledger and metrics on, tracing off, one core: the median round. */
  stepEventsPerSecond: number;
  /** Step events per second over the rounds (`tasks / rounds` tasks each): the spread on this machine. */
  stepEventsPerSecondRounds: { median: number; p25: number; p75: number; min: number; max: number; rounds: number };
  /** Finished tasks summarised and aggregated per second (21 steps each). */
  tasksPerSecond: number;
  /** Heap growth in MB after `tasks` tasks, measured after a full GC. */
  heapGrowthMb: number;
  tasks: number;
}

/** One synthetic task shaped like the 10-step ReAct run: agent → (node → chat, node → tool) × 10 + node → chat. */
function task(warden: Warden, i: number): Run {
  const run = warden.startTask("agent", { name: `agent-${i % 3}` });
  for (let j = 0; j <= 10; j++) {
    const node = run.start("node", "agent", run.root, (s) => {
      s.node = { name: "agent", attempt: 1, superstep: 2 * j };
    });
    const chat = run.start("chat", "gpt-4o-mini", node, (s) => {
      s.chat = { provider: "openai", requestModel: "gpt-4o-mini", usage: { input: 100 + j, output: 20 } };
    });
    run.end(chat, "ok");
    run.end(node, "ok");
    if (j === 10) break;
    const tools = run.start("node", "tools", run.root);
    const tool = run.start("tool", `tool-${j % 4}`, tools, (s) => {
      s.tool = { name: `tool-${j % 4}`, type: "function", callId: `c${j}` };
    });
    run.end(tool, (i + j) % 7 === 0 ? "error" : "ok");
    run.end(tools, "ok");
  }
  run.end(run.root, i % 5 === 0 ? "error" : "ok");
  return run;
}

export async function metricsBench(tasks: number): Promise<MetricsFigures> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const warden = new Warden({ tracing: false });
  for (let i = 0; i < 2_000; i++) task(warden, i); // warm up
  gc?.();
  const before = process.memoryUsage().heapUsed;
  const rounds = 5;
  const per = Math.ceil(tasks / rounds);
  const steps = 42; // root + 21 nodes + 11 chats + 10 tools - 1 (no tools node after the answer)
  const rates: number[] = [];
  let total = 0;
  for (let r = 0; r < rounds; r++) {
    const start = performance.now();
    for (let i = 0; i < per; i++) task(warden, total + i);
    total += per;
    rates.push((per * steps * 2) / ((performance.now() - start) / 1000));
  }
  gc?.();
  const after = process.memoryUsage().heapUsed;
  rates.sort((a, b) => a - b);
  const q = (p: number) => Math.round(quantile(rates, p));
  const median = q(0.5);
  return {
    description: `${total} synthetic tasks of ${steps} steps through the ledger and the metrics subscriber (tracing off), in ${rounds} rounds`,
    stepEventsPerSecond: median,
    stepEventsPerSecondRounds: { median, p25: q(0.25), p75: q(0.75), min: q(0), max: q(1), rounds },
    tasksPerSecond: Math.round(median / (steps * 2)),
    heapGrowthMb: round((after - before) / 1024 / 1024, 2),
    tasks: total,
  };
}
