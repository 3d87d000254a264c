import { execFile } from "node:child_process";
import { appendFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { type MetricsSnapshot, readStore, type StoreLineError, scanStore, type TaskSummary } from "../src/index.js";
import { generatedTask, writeGeneratedStore } from "./support/stores.js";

const run = promisify(execFile);

describe("agentwarden report on a large store", () => {
  it("streams 20,000 tasks (and 21 unreadable lines) to the figures worked out from the generator", async () => {
    const store = join(mkdtempSync(join(tmpdir(), "aw-large-")), "runs.jsonl");
    writeGeneratedStore(store, 20_000, { truncatedTail: true });
    const { stdout, stderr } = await run(
      "npx",
      ["tsx", "--conditions=agentwarden-source", "src/cli/main.ts", "report", store, "--json"],
      { maxBuffer: 64 << 20 },
    );
    const report = JSON.parse(stdout) as MetricsSnapshot & {
      skippedLines: StoreLineError[];
      skippedLineCount: number;
    };
    const c = report.cumulative;
    // Failures where i % 5 === 0: 4,000 of 20,000; 2 completed subtasks per success: 32,000.
    expect([c.totals.tasks, c.totals.success, c.totals.failure]).toEqual([20_000, 16_000, 4_000]);
    expect(c.asf).toBe(0.8);
    // Tool failures at multiples of 7 below 20,000: 2,858, recovered at multiples of 14: 1,429.
    expect([c.totals.failures.tool, c.totals.recovered.tool, c.err]).toEqual([2_858, 1_429, 0.5]);
    // (i % 3) × $0.25: 6,667 × 0 + 6,667 × 0.25 + 6,666 × 0.5 = $4,999.75 over 32,000 subtasks.
    expect([c.totals.costUsd, c.totals.completedSubtasks, c.cpcs]).toEqual([4_999.75, 32_000, 4_999.75 / 32_000]);
    // Each agent i % 4 has 5,000 tasks, 1,000 of them failures (i ≡ k mod 4 and 0 mod 5: one in 20).
    expect(Object.entries(report.byAgent).map(([a, f]) => [a, f.totals.tasks, f.asf])).toEqual([
      ["agent0", 5_000, 0.8],
      ["agent1", 5_000, 0.8],
      ["agent2", 5_000, 0.8],
      ["agent3", 5_000, 0.8],
    ]);
    // A corrupt line after every 1000th task (lines 1001·k) and the truncated last line, 20,021.
    const lines = [...Array.from({ length: 20 }, (_, k) => 1001 * (k + 1)), 20_021];
    expect(report.skippedLineCount).toBe(21);
    expect(report.skippedLines.map((e) => e.line)).toEqual(lines);
    expect(report.skippedLines[20]?.message).toBe("truncated line (no newline): skipped");
    expect(stderr.trimEnd().split("\n")).toEqual(
      report.skippedLines.map((e) => `agentwarden: ${store}:${e.line}: ${e.message}`),
    );
  }, 60_000);
});

describe("streaming a store", () => {
  it("reads lines split across chunks (multi-byte characters too) as readStore does", async () => {
    const store = join(mkdtempSync(join(tmpdir(), "aw-scan-")), "runs.jsonl");
    const task = (i: number, agent: string) => JSON.stringify({ ...generatedTask(i), agent });
    writeFileSync(store, `${task(0, "ägent·日本")}\n\n{"v":1\n${task(1, "b")}\n`);
    appendFileSync(store, task(2, "c").slice(0, 30));
    for (const chunkBytes of [1, 7, 64, 1 << 20]) {
      const summaries: TaskSummary[] = [];
      const errors: StoreLineError[] = [];
      const end = await scanStore(
        store,
        { summary: (s) => summaries.push(s), error: (e) => errors.push(e) },
        { chunkBytes, final: false },
      );
      const whole = readStore(store, { final: false });
      expect(summaries.map((s) => s.agent)).toEqual(["ägent·日本", "b"]);
      expect({ summaries, errors, records: [], ...end }).toEqual(whole);
      expect(errors).toEqual([{ line: 3, message: expect.stringMatching(/^not JSON/) }]);
    }
    // Continuing from where a live read stopped, once the writer finished its line.
    const live = readStore(store, { final: false });
    appendFileSync(store, `${task(2, "c").slice(30)}\n`);
    const rest: string[] = [];
    const end = await scanStore(
      store,
      { summary: (s) => rest.push(s.agent), error: () => undefined },
      { offset: live.offset, lines: live.lines, chunkBytes: 5 },
    );
    expect(rest).toEqual(["c"]);
    expect(end.lines).toBe(5);
  });
});

describe("the dashboard on runs whose lines are megabytes", () => {
  it("builds a page of 30 runs of 6 MB each within a 160 MB heap: one run's line in memory at a time", async () => {
    const dir = mkdtempSync(join(tmpdir(), "aw-large-lines-"));
    const store = join(dir, "runs.jsonl");
    // A task whose tool failed with a 6 MB message (a store written by hand, or by an application
    // with a huge maxContentLength): 30 of them, 180 MB, more than the child's whole heap.
    const message = "x".repeat(6 << 20);
    writeFileSync(store, "");
    for (let i = 0; i < 30; i++) {
      const task: TaskSummary = {
        ...generatedTask(1),
        id: `big-${i}`,
        steps: [
          { p: -1, k: "agent", n: "a", t: 0, d: 2, s: "ok" },
          { p: 0, k: "tool", n: "fetch", t: 1, d: 1, s: "error", e: { type: "ToolError", message } },
        ],
      };
      appendFileSync(store, `${JSON.stringify(task)}\n`);
    }
    const script = join(dir, "page.mts");
    writeFileSync(
      script,
      `import { StoreFollower } from ${JSON.stringify(join(process.cwd(), "src/index.ts"))};
const follower = new StoreFollower(${JSON.stringify(store)});
await follower.refresh();
const data = await follower.data({});
console.log(JSON.stringify({ storeRuns: data.storeRuns, ids: data.runs.map((r) => r.id) }));`,
    );
    const { stdout } = await run(process.execPath, ["--max-old-space-size=160", "--import", "tsx", script], {
      maxBuffer: 16 << 20,
    });
    const page = JSON.parse(stdout) as { storeRuns: number; ids: string[] };
    expect(page.storeRuns).toBe(30);
    expect([...page.ids].sort()).toEqual(Array.from({ length: 30 }, (_, i) => `big-${i}`).sort());
  }, 120_000);
});
