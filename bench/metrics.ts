import type { Run } from "../src/index.js";
import { Warden } from "../src/index.js";
import { round } from "./harness.js";

export interface MetricsFigures {
  description: string;
  /** Step events (start + end) aggregated per second, ledger and metrics on, tracing off, one core. */
  stepEventsPerSecond: number;
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
  const start = performance.now();
  for (let i = 0; i < tasks; i++) task(warden, i);
  const seconds = (performance.now() - start) / 1000;
  gc?.();
  const after = process.memoryUsage().heapUsed;
  const steps = 42; // root + 21 nodes + 11 chats + 10 tools - 1 (no tools node after the answer)
  return {
    description: `${tasks} synthetic tasks of ${steps} steps through the ledger and the metrics subscriber (tracing off)`,
    stepEventsPerSecond: Math.round((tasks * steps * 2) / seconds),
    tasksPerSecond: Math.round(tasks / seconds),
    heapGrowthMb: round((after - before) / 1024 / 1024, 2),
    tasks,
  };
}
