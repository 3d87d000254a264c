import { closeSync, openSync, writeSync } from "node:fs";
import type { TaskSummary } from "../../src/index.js";

/** Start of the generated store's first task: a multiple of 900 s, so trend buckets start on it. */
export const GENERATED_T0 = 1_800_000_000_000;

/**
 * Task `i` of a generated store (figures chosen so the totals can be worked out by hand):
 * agent `agent${i % 4}`; a failure when i % 5 === 0, else a success with 2 of 2 subtasks completed;
 * cost (i % 3) × $0.25; one tool failure when i % 7 === 0, recovered when i % 14 === 0; started
 * i seconds after GENERATED_T0; `pad` bytes of step names to make lines as big as real ones.
 */
export function generatedTask(i: number, pad = 0): TaskSummary {
  const success = i % 5 !== 0;
  const failed = i % 7 === 0 ? 1 : 0;
  const recovered = i % 14 === 0 ? 1 : 0;
  return {
    v: 1,
    id: `run-${i}`,
    agent: `agent${i % 4}`,
    kind: "agent",
    outcome: success ? "success" : "failure",
    start: GENERATED_T0 + i * 1000,
    durationMs: 10,
    costUsd: (i % 3) * 0.25,
    costUnknownCalls: 0,
    estimatedUsageCalls: 0,
    tokens: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
    subtasks: 2,
    completedSubtasks: success ? 2 : 0,
    failures: { tool: failed, model: 0, eval: 0 },
    recovered: { tool: recovered, model: 0, eval: 0 },
    recoveredInjected: { tool: 0, model: 0, eval: 0 },
    trips: {},
    retries: 0,
    tools: {},
    models: {},
    nodes: {},
    steps: [
      { p: -1, k: "agent", n: `agent${i % 4}`, t: 0, d: 10, s: success ? "ok" : "error" },
      { p: 0, k: "node", n: "x".repeat(pad), t: 1, d: 8, s: "ok" },
    ],
  };
}

/**
 * Writes `n` generated tasks, a corrupt line after every 1000th task (line 1001·k for k = 1, 2, …)
 * and, with `truncatedTail`, a last line without its newline. Writes in blocks, so a store far
 * bigger than memory can be made.
 */
export function writeGeneratedStore(path: string, n: number, options: { pad?: number; truncatedTail?: boolean } = {}) {
  const fd = openSync(path, "w");
  try {
    let block: string[] = [];
    for (let i = 0; i < n; i++) {
      block.push(JSON.stringify(generatedTask(i, options.pad)));
      if (i % 1000 === 999) block.push('{"v":1,"id":"broken"');
      if (block.length >= 2000) {
        writeSync(fd, `${block.join("\n")}\n`);
        block = [];
      }
    }
    if (block.length > 0) writeSync(fd, `${block.join("\n")}\n`);
    if (options.truncatedTail) writeSync(fd, JSON.stringify(generatedTask(n)).slice(0, 40));
  } finally {
    closeSync(fd);
  }
}
