import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tool } from "@langchain/core/tools";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { wrapGraph } from "../adapters/langgraph/index.js";
import { type Script, ScriptedChatModel } from "../adapters/testing/index.js";
import { writeDashboardStore } from "../bench/dashboardStore.js";
import {
  type EvalRecord,
  recordFeedback,
  schemaCheck,
  serveDashboard,
  type TaskSummary,
  Warden,
} from "../src/index.js";
import { user } from "./support/agents.js";
import { generatedTask } from "./support/stores.js";

// The page's globals, as the functions passed to page.evaluate see them.
declare const document: {
  querySelector(selector: string): { textContent: string | null } | null;
  querySelectorAll(selector: string): ArrayLike<{ getAttribute(name: string): string | null }>;
};

const CHROMIUM = "/usr/bin/chromium";
const ALL = ["r6", "r5", "r4", "r3", "r2", "r1"];
const ARTIFACTS = join(process.cwd(), "test", "artifacts");
const MIN = 60_000;
/** 2026-01-05 09:00 UTC: in the past, far from "now". */
const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);

let browser: Browser;
beforeAll(async () => {
  if (!existsSync(CHROMIUM)) return;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] });
});
afterAll(async () => {
  await browser?.close();
});

const tool1 = (calls: number, failures = 0, recovered = 0) => ({
  calls,
  completed: calls - failures,
  failures,
  recovered,
  costUsd: 0,
  durationMs: 5 * calls,
});

/** A scripted task: the generated one, with the fields given. */
function task(over: Partial<TaskSummary> & { id: string; agent: string; start: number }): TaskSummary {
  const base = generatedTask(0);
  return {
    ...base,
    outcome: "success",
    costUsd: 0,
    subtasks: 1,
    completedSubtasks: 1,
    failures: { tool: 0, model: 0, eval: 0 },
    recovered: { tool: 0, model: 0, eval: 0 },
    recoveredInjected: { tool: 0, model: 0, eval: 0 },
    trips: {},
    steps: [{ p: -1, k: "agent", n: over.agent, t: 0, d: 10, s: over.outcome === "failure" ? "error" : "ok" }],
    ...over,
  };
}
const model = (name: string) => ({ [name]: {} }) as TaskSummary["models"];

/**
 * Six runs (T0 = 2026-01-05 09:00 UTC), figures chosen to be worked out by hand:
 *   r1 planner v1 success at T0       $0.10, 2 subtasks done; search; gpt-a; thread th-alpha; input "Book a flight to Oslo"
 *   r2 planner v2 failure at T0+10min $0.05; search failed (ToolError "search timed out after 30 s"); gpt-a
 *   r3 writer  v2 failure at T0+20min $0.02; a loop trip on fetch; gpt-b
 *   r4 writer  v1 success at T0+2h    $0.30, 3 subtasks done; fetch failed once, recovered (injected); gpt-b; thread th-beta
 *   r5 planner -  success at T0+3h    $0, 1 subtask done; a "pii" guard step
 *   r6 planner -  success 10 minutes ago, $0.01, 1 subtask done
 */
function scriptedStore(path: string, after: Record<string, object[]> = {}): void {
  const trip = "loop breaker tripped: fetch was called 4 times with the same arguments";
  const runs: TaskSummary[] = [
    task({
      id: "r1",
      agent: "planner",
      start: T0,
      costUsd: 0.1,
      subtasks: 2,
      completedSubtasks: 2,
      tools: { search: tool1(2) },
      models: model("gpt-a"),
      conversationId: "th-alpha",
      input: "Book a flight to Oslo",
      answer: "Booked SK4021 for Monday.",
    }),
    task({
      id: "r2",
      agent: "planner",
      start: T0 + 10 * MIN,
      outcome: "failure",
      costUsd: 0.05,
      completedSubtasks: 0,
      failures: { tool: 1, model: 0, eval: 0 },
      tools: { search: tool1(1, 1) },
      models: model("gpt-a"),
      error: { type: "ToolError", message: "search timed out after 30 s" },
      steps: [
        { p: -1, k: "agent", n: "planner", t: 0, d: 40, s: "error" },
        {
          p: 0,
          k: "tool",
          n: "search",
          t: 5,
          d: 30,
          s: "error",
          e: { type: "ToolError", message: "search timed out after 30 s" },
        },
      ],
    }),
    task({
      id: "r3",
      agent: "writer",
      start: T0 + 20 * MIN,
      outcome: "failure",
      costUsd: 0.02,
      completedSubtasks: 0,
      trips: { loop: 1 },
      tools: { fetch: tool1(1) },
      models: model("gpt-b"),
      error: { type: "BREAKER_TRIP", message: `agentwarden: ${trip}` },
      steps: [
        {
          p: -1,
          k: "agent",
          n: "writer",
          t: 0,
          d: 20,
          s: "error",
          e: { type: "BREAKER_TRIP", message: `agentwarden: ${trip}` },
        },
        {
          p: 0,
          k: "tool",
          n: "fetch",
          t: 5,
          d: 1,
          s: "error",
          e: { type: "BREAKER_TRIP", message: `agentwarden: ${trip}` },
        },
      ],
    }),
    task({
      id: "r4",
      agent: "writer",
      start: T0 + 120 * MIN,
      costUsd: 0.3,
      subtasks: 3,
      completedSubtasks: 3,
      failures: { tool: 1, model: 0, eval: 0 },
      recovered: { tool: 1, model: 0, eval: 0 },
      recoveredInjected: { tool: 1, model: 0, eval: 0 },
      tools: { fetch: tool1(2, 1, 1) },
      models: model("gpt-b"),
      conversationId: "th-beta",
      input: "Summarise the quarterly report",
      // A guard that let the answer through: not a guard that acted, so not in the guard filter.
      steps: [
        { p: -1, k: "agent", n: "writer", t: 0, d: 10, s: "ok" },
        { p: 0, k: "guard", n: "output.block", t: 1, d: 1, s: "ok", gd: { d: "continue" } },
      ],
    }),
    task({
      id: "r5",
      agent: "planner",
      start: T0 + 180 * MIN,
      steps: [
        { p: -1, k: "agent", n: "planner", t: 0, d: 10, s: "ok" },
        { p: 0, k: "guard", n: "input.block", t: 1, d: 1, s: "ok", gd: { d: "block", by: "pii" } },
      ],
    }),
    task({ id: "r6", agent: "planner", start: Date.now() - 10 * MIN, costUsd: 0.01 }),
  ];
  const versions: Record<string, string> = { r1: "v1", r2: "v2", r3: "v2", r4: "v1" };
  writeFileSync(
    path,
    `${runs
      .flatMap((r) => [versions[r.id] ? { ...r, version: versions[r.id] } : r, ...(after[r.id] ?? [])])
      .map((line) => JSON.stringify(line))
      .join("\n")}\n`,
  );
}

/** An online evaluator's result as the Warden writes it to the store, after its run's line. */
const evalLine = (run: string, name: string, over: Partial<EvalRecord>): EvalRecord => ({
  v: 1,
  type: "eval",
  run,
  name,
  time: T0 + 5 * MIN,
  ...over,
});

const count = (n: number) => (n === 0 ? "0 runs" : `1–${n} of ${n} runs`);

/** Waits until the page lists exactly `ids`, in order (and says so in its run count); returns them. */
async function listed(page: Page, ids: readonly string[]): Promise<string[]> {
  const shown = () =>
    page.evaluate(() => ({
      count: document.querySelector('[data-testid="run-count"]')?.textContent,
      ids: Array.from(document.querySelectorAll("tr.run")).map((tr) => tr.getAttribute("data-run") ?? ""),
    }));
  await page
    .waitForFunction(
      ([c, want]) =>
        document.querySelector('[data-testid="run-count"]')?.textContent === c &&
        Array.from(document.querySelectorAll("tr.run"))
          .map((tr) => tr.getAttribute("data-run"))
          .join(",") === want,
      [count(ids.length), ids.join(",")] as const,
      { timeout: 10_000 },
    )
    .catch(() => undefined);
  const now = await shown();
  expect(now.count).toBe(count(ids.length));
  return now.ids;
}

describe.skipIf(!existsSync(CHROMIUM))("the dashboard's views, in a real headless Chromium", () => {
  it("each filter and the search narrow the run list to exactly the expected runs, and the view is in the URL", async () => {
    const store = join(mkdtempSync(join(tmpdir(), "aw-views-")), "runs.jsonl");
    scriptedStore(store);
    const dashboard = await serveDashboard(store, { port: 0 });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const console: string[] = [];
    page.on("console", (m) => console.push(m.text()));
    try {
      await page.goto(dashboard.url);
      expect(await listed(page, ALL)).toEqual(ALL);
      // The version and guard controls show, as the store has both.
      expect(await page.locator("#f-version").isVisible()).toBe(true);
      expect(await page.locator("#f-guard").isVisible()).toBe(true);
      expect(await page.locator("#f-guard option").allTextContents()).not.toContain("output.block");
      const cases: Array<[string, string, string[]]> = [
        ["agent", "writer", ["r4", "r3"]],
        ["version", "v2", ["r3", "r2"]],
        ["version", "v1", ["r4", "r1"]],
        ["outcome", "failure", ["r3", "r2"]],
        ["tool", "fetch", ["r4", "r3"]],
        ["model", "gpt-a", ["r2", "r1"]],
        ["error", "ToolError", ["r2"]],
        ["error", "BREAKER_TRIP", ["r3"]],
        ["trip", "loop", ["r3"]],
        ["guard", "input.block", ["r5"]],
      ];
      for (const [filter, value, ids] of cases) {
        await page.selectOption(`#f-${filter}`, value);
        expect(await listed(page, ids), `${filter}=${value}`).toEqual(ids);
        expect(new URL(page.url()).searchParams.get(filter)).toBe(value);
        await page.selectOption(`#f-${filter}`, "");
        await listed(page, ALL);
      }
      for (const [q, ids] of [
        ["oslo", ["r1"]], // task input, any case
        ["th-beta", ["r4"]], // thread id
        ["r2", ["r2"]], // run id
        ["timed out", ["r2"]], // error text
        ["fetch was called", ["r3"]],
        ["nowhere", []],
      ] as const) {
        await page.fill("#q", q);
        expect(await listed(page, ids), q).toEqual(ids);
      }
      // Filters combine; the URL holds the view, so another page opens on the same list.
      await page.fill("#q", "");
      await listed(page, ALL);
      await page.selectOption("#f-agent", "planner");
      await page.selectOption("#f-outcome", "success");
      expect(await listed(page, ["r6", "r5", "r1"])).toEqual(["r6", "r5", "r1"]);
      const shared = await browser.newPage();
      await shared.goto(page.url());
      expect(await listed(shared, ["r6", "r5", "r1"])).toEqual(["r6", "r5", "r1"]);
      expect(await shared.inputValue("#f-agent")).toBe("planner");
      await shared.close();
      // Everything ran under the page's CSP: nothing was refused.
      expect(console.filter((m) => /Content Security Policy/i.test(m))).toEqual([]);
    } finally {
      await page.close();
      await dashboard.close();
    }
  }, 60_000);

  it("the time range sets every tile, chart and table to the figures of its runs", async () => {
    const store = join(mkdtempSync(join(tmpdir(), "aw-range-")), "runs.jsonl");
    scriptedStore(store);
    const dashboard = await serveDashboard(store, { port: 0 });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const tiles = async () =>
      Promise.all(
        ["asf", "err", "cpcs", "trips"].flatMap((t) => [
          page.textContent(`[data-testid="${t}"]`),
          page.textContent(`#tile-${t} .sub`),
        ]),
      );
    try {
      await page.goto(dashboard.url);
      await listed(page, ALL);
      // All six: 4 of 6 succeeded; 1 of 2 failures recovered (r4's, injected); $0.48 over 9 subtasks.
      expect(await tiles()).toEqual([
        "66.7%",
        "4 of 6 tasks succeeded · 6 tasks",
        "50.0%",
        "1 of 2 failures recovered (1 injected, 0 organic)",
        "$0.0686",
        "$0.4800 over 7 completed subtasks",
        "1",
        "loop 1 · in 1 runs",
      ]);

      // The first hour from T0: r1, r2, r3. ASF 1/3; ERR 0/1 (r2's search); $0.17 over 2 subtasks.
      await page.goto(`${dashboard.url}?range=custom&from=${T0}&to=${T0 + 60 * MIN}`);
      expect(await listed(page, ["r3", "r2", "r1"])).toEqual(["r3", "r2", "r1"]);
      expect(await tiles()).toEqual([
        "33.3%",
        "1 of 3 tasks succeeded · 3 tasks",
        "0.0%",
        "0 of 1 failures recovered (0 injected, 0 organic)",
        "$0.0850",
        "$0.1700 over 2 completed subtasks",
        "1",
        "loop 1 · in 1 runs",
      ]);
      // An hour in buckets of 1 minute: 60 bars; ASF has a point in the buckets of r1 (100%), r2
      // and r3 (0%); ERR one, r2's (0 of 1).
      expect(await page.textContent("#bucket")).toBe("buckets of 1 min · hover a point for its values");
      expect(await page.locator('[data-testid="chart-tasks"] rect').count()).toBe(60);
      const dots = (key: string) =>
        page
          .locator(`[data-testid="chart-${key}"] circle`)
          .evaluateAll((cs) => cs.map((c) => [Number(c.getAttribute("data-t")), c.textContent]));
      const at = (t: number) => {
        const d = new Date(t);
        const p = (n: number, w = 2) => String(n).padStart(w, "0");
        return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:00.000 + 1 min`;
      };
      expect(await dots("asf")).toEqual([
        [T0, `${at(T0)}: 100.0% (1/1) succeeded`],
        [T0 + 10 * MIN, `${at(T0 + 10 * MIN)}: 0.0% (0/1) succeeded`],
        [T0 + 20 * MIN, `${at(T0 + 20 * MIN)}: 0.0% (0/1) succeeded`],
      ]);
      expect(await dots("err")).toEqual([[T0 + 10 * MIN, `${at(T0 + 10 * MIN)}: 0.0% (0/1) recovered`]]);
      // Time labels under the charts: the first, middle and last bucket of the range.
      const labels = await page.locator('[data-testid="chart-asf"] text.axis').allTextContents();
      expect(labels.slice(0, 3)).toEqual(["0%", "50%", "100%"]);
      const hm = (t: number) => {
        const d = new Date(t);
        return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
      };
      expect(labels.slice(3)).toEqual([hm(T0), hm(T0 + 29 * MIN), hm(T0 + 59 * MIN)]);
      // The tables follow: per agent, per tool, the error groups and trips of the hour only.
      const rows = (id: string) =>
        page.locator(`#${id} tr`).evaluateAll((trs) => trs.slice(1).map((tr) => tr.textContent ?? ""));
      expect(await rows("agents")).toEqual([
        "planner250.0% (1/2)0.0% (0/1)10$0.0750$0.150010 ms",
        "writer10.0% (0/1)n/a (0/0)00n/a$0.020010 ms",
      ]);
      expect(await rows("tools")).toEqual(["search3100.0% (0/1)5 ms", "fetch100n/a (0/0)5 ms"]);
      // r3's trip is grouped once, at the call it stopped (not again as the task's error).
      expect(await rows("errors")).toEqual([
        "1BREAKER_TRIPfetchwriteragentwarden: loop breaker tripped: fetch was called 4 times with the same arguments",
        "1ToolErrorsearchplannersearch timed out after 30 s",
      ]);
      expect(await rows("versions")).toEqual([
        "v11100.0% (1/1)n/a (0/0)$0.0500 (2)$0.100010 ms",
        "v220.0% (0/2)0.0% (0/1)n/a (0)$0.070010 ms",
      ]);
      // No evaluation records in this store: no judge cost, no scores section.
      expect(await page.locator("#scores-section").isVisible()).toBe(false);
      expect(await rows("trips")).toEqual([
        expect.stringMatching(/writerloopfetch was called 4 times with the same arguments$/),
      ]);

      // "last hour" is the hour before now: r6 only.
      await page.click('[data-range="1h"]');
      expect(await listed(page, ["r6"])).toEqual(["r6"]);
      expect(await page.textContent("#tile-asf .sub")).toBe("1 of 1 tasks succeeded · 1 tasks");
      expect(new URL(page.url()).searchParams.get("range")).toBe("1h");
    } finally {
      await page.close();
      await dashboard.close();
    }
  }, 60_000);
});

describe.skipIf(!existsSync(CHROMIUM))("online evaluation and feedback, in a real headless Chromium", () => {
  it("shows each evaluator's mean score with its count and the judge cost, overall and per version, following the range and filters, and a run's results on its panel", async () => {
    const store = join(mkdtempSync(join(tmpdir(), "aw-scores-")), "runs.jsonl");
    // The six runs above (v1: r1, r4; v2: r2, r3; r5, r6 no version), each followed by its online
    // evaluation results; one result names a run the store does not hold.
    scriptedStore(store, {
      r1: [
        evalLine("r1", "helpfulness", { score: 0.9, pass: true, costUsd: 0.002, reason: "cites the booking" }),
        evalLine("r1", "grounded", { score: 1, pass: true, costUsd: 0.001 }),
      ],
      r2: [
        evalLine("r2", "helpfulness", {
          score: 0.2,
          pass: false,
          costUsd: 0.003,
          costUnknownCalls: 1,
          reason: "no answer: <b>timed out</b>",
        }),
      ],
      r3: [evalLine("r3", "helpfulness", { score: 0.4, pass: false, costUsd: 0.001 })],
      r4: [evalLine("r4", "helpfulness", { score: 0.7, pass: true, costUsd: 0.002 })],
      r6: [
        evalLine("r6", "helpfulness", { score: 0.5, pass: true, costUsd: 0.004, time: Date.now() }),
        evalLine("r-gone", "helpfulness", { score: 0, pass: false, costUsd: 0.01 }),
      ],
    });
    // Users' feedback, from another process, appended after every run: by run id, and by thread
    // (th-beta's latest run is r4). Thumbs up scores 1, down 0; a score of 0.6 alone passes.
    recordFeedback(store, { runId: "r1", thumbs: "up", comment: "spot on" });
    recordFeedback(store, {
      runId: "r3",
      thumbs: "down",
      correction: "Use the cached page <script>alert(1)</script>",
      comment: "it looped",
    });
    recordFeedback(store, { threadId: "th-beta", score: 0.6 });

    const dashboard = await serveDashboard(store, { port: 0 });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    const cells = (id: string) =>
      page
        .locator(`#${id} tr`)
        .evaluateAll((trs) =>
          trs
            .slice(1)
            .map((tr) =>
              Array.from(tr.querySelectorAll("td"), (td) => (td as { textContent: string | null }).textContent ?? ""),
            ),
        );
    const head = (id: string) => page.locator(`#${id} th`).allTextContents();
    try {
      await page.goto(dashboard.url);
      await listed(page, ALL);
      // All time. helpfulness: 0.9, 0.2, 0.4, 0.7, 0.5 → 2.7 / 5 = 0.540, passed 3 (r1, r4, r6),
      // judge cost 0.002 + 0.003 + 0.001 + 0.002 + 0.004 = $0.0120; grounded: r1's 1; feedback:
      // r1 up (1), r3 down (0), r4 0.6 → 1.6 / 3 = 0.533. r-gone's result counts nowhere.
      expect(await cells("scores")).toEqual([
        ["grounded", "online eval", "1", "1", "0", "1.000 (1)", "$0.001000"],
        ["helpfulness", "online eval", "5", "3", "2", "0.540 (5)", "$0.0120"],
        ["user_feedback", "user feedback", "3", "2", "1", "0.533 (3)", "–"],
      ]);
      expect(await page.textContent('[data-testid="scores-note"]')).toBe(
        "judge cost $0.0130 (+ 1 calls of unknown price) beside the agents' $0.4800 · 1 records of runs not in the store",
      );
      expect(await page.textContent("#tile-cpcs .sub")).toBe(
        "$0.4800 over 7 completed subtasks · judge cost $0.0130 beside it",
      );
      // Per version: v1 (r1, r4): CPCS $0.40 / 5, judge 0.002 + 0.001 + 0.002, helpfulness (0.9 + 0.7) / 2,
      // feedback (1 + 0.6) / 2; v2 (r2, r3): judge 0.003 + 0.001, helpfulness (0.2 + 0.4) / 2, feedback r3's 0.
      expect(await head("versions")).toEqual([
        "version",
        "runs",
        "ASF",
        "ERR",
        "CPCS",
        "cost",
        "judge cost",
        "grounded (n)",
        "helpfulness (n)",
        "user_feedback (n)",
        "mean time",
      ]);
      expect(await cells("versions")).toEqual([
        [
          "v1",
          "2",
          "100.0% (2/2)",
          "100.0% (1/1)",
          "$0.0800 (5)",
          "$0.4000",
          "$0.005000",
          "1.000 (1)",
          "0.800 (2)",
          "0.800 (2)",
          "10 ms",
        ],
        [
          "v2",
          "2",
          "0.0% (0/2)",
          "0.0% (0/1)",
          "n/a (0)",
          "$0.0700",
          "$0.004000",
          "n/a (0)",
          "0.300 (2)",
          "0.000 (1)",
          "10 ms",
        ],
      ]);

      // The first hour from T0 (r1, r2, r3): helpfulness (0.9 + 0.2 + 0.4) / 3, feedback (1 + 0) / 2.
      await page.goto(`${dashboard.url}?range=custom&from=${T0}&to=${T0 + 60 * MIN}`);
      await listed(page, ["r3", "r2", "r1"]);
      expect(await cells("scores")).toEqual([
        ["grounded", "online eval", "1", "1", "0", "1.000 (1)", "$0.001000"],
        ["helpfulness", "online eval", "3", "1", "2", "0.500 (3)", "$0.006000"],
        ["user_feedback", "user feedback", "2", "1", "1", "0.500 (2)", "–"],
      ]);
      expect(await page.textContent('[data-testid="scores-note"]')).toBe(
        "judge cost $0.007000 (+ 1 calls of unknown price) beside the agents' $0.1700 · 1 records of runs not in the store",
      );
      expect(await cells("versions")).toEqual([
        [
          "v1",
          "1",
          "100.0% (1/1)",
          "n/a (0/0)",
          "$0.0500 (2)",
          "$0.1000",
          "$0.003000",
          "1.000 (1)",
          "0.900 (1)",
          "1.000 (1)",
          "10 ms",
        ],
        [
          "v2",
          "2",
          "0.0% (0/2)",
          "0.0% (0/1)",
          "n/a (0)",
          "$0.0700",
          "$0.004000",
          "n/a (0)",
          "0.300 (2)",
          "0.000 (1)",
          "10 ms",
        ],
      ]);

      // A filter: version v2, all time (r2, r3).
      await page.goto(`${dashboard.url}?version=v2`);
      await listed(page, ["r3", "r2"]);
      expect(await cells("scores")).toEqual([
        ["helpfulness", "online eval", "2", "0", "2", "0.300 (2)", "$0.004000"],
        ["user_feedback", "user feedback", "1", "0", "1", "0.000 (1)", "–"],
      ]);

      // The last hour: r6 alone, which has no version.
      await page.goto(`${dashboard.url}?range=1h`);
      await listed(page, ["r6"]);
      expect(await cells("scores")).toEqual([["helpfulness", "online eval", "1", "1", "0", "0.500 (1)", "$0.004000"]]);
      expect(await page.locator("#versions-section").isVisible()).toBe(false);

      // A run's panel: its online evaluation results and its feedback, in store order, as text.
      const shown = async (id: string) => {
        await page.goto(`${dashboard.url}?run=${id}`);
        await page.waitForFunction(
          (run) => document.querySelector("#run .facts")?.textContent?.includes(run) === true,
          id,
        );
        return {
          evals: await page.locator('[data-testid="run-eval"] span:last-child').allTextContents(),
          feedback: await page.locator('[data-testid="run-feedback"] span:last-child').allTextContents(),
        };
      };
      expect(await shown("r1")).toEqual({
        evals: [
          "helpfulness · passed · score 0.9 · judge cost $0.002000 · reason: cites the booking",
          "grounded · passed · score 1 · judge cost $0.001000",
        ],
        feedback: ["user_feedback · thumbs up · passed · comment: spot on"],
      });
      expect(await shown("r2")).toEqual({
        evals: [
          "helpfulness · failed · score 0.2 · judge cost $0.003000 · 1 judge calls of unknown price · reason: no answer: <b>timed out</b>",
        ],
        feedback: [],
      });
      expect(await shown("r3")).toEqual({
        evals: ["helpfulness · failed · score 0.4 · judge cost $0.001000"],
        feedback: [
          "user_feedback · thumbs down · failed · correction: Use the cached page <script>alert(1)</script> · comment: it looped",
        ],
      });
      // The markup in a reason and a correction is text, not elements.
      expect(await page.locator("#run script, #run b").count()).toBe(0);
      expect(await shown("r4")).toEqual({
        evals: ["helpfulness · passed · score 0.7 · judge cost $0.002000"],
        feedback: ["user_feedback · passed · score 0.6"],
      });
      expect(await shown("r5")).toEqual({ evals: [], feedback: [] });
    } finally {
      await page.close();
      await dashboard.close();
    }
  }, 60_000);
});

/** Calls `name` with `args` once, then answers with the tool's last result. */
const callOnce =
  (name: string, args: Record<string, unknown>): Script =>
  (messages) => {
    const last = messages.at(-1);
    return last?.getType() === "tool"
      ? { content: `result: ${String(last.content)}` }
      : { toolCalls: [{ name, args, id: "call_1" }] };
  };

function agent(warden: Warden, name: string, script: Script, tools: Parameters<typeof createReactAgent>[0]["tools"]) {
  const llm = new ScriptedChatModel({ script, model: "test-model" });
  return wrapGraph(createReactAgent({ llm, tools, name }), { warden });
}

const always = (name: string, error: string) =>
  tool(
    async () => {
      throw new Error(error);
    },
    { name, description: `The ${name} tool.`, schema: z.object({ q: z.string() }) },
  );

/** The step names and recovery lines of the open run, as shown. */
async function panel(page: Page, title: RegExp) {
  await page.waitForFunction(
    (t) => new RegExp(t).test(document.querySelector("#run-title")?.textContent ?? ""),
    title.source,
  );
  return {
    recoveries: (await page.locator('[data-testid="recovery"]').allTextContents()).map((t) =>
      t.replace(/^[\s\u00a0]*↳ /, ""),
    ),
    hints: await page.locator('[data-testid="loop-hint"]').count(),
    errors: (await page.locator("#run .err").allTextContents()).map((t) => t.replace(/^[\s\u00a0]+/, "")),
    same: (await page.locator("#run .dim").allTextContents()).map((t) => t.replace(/^[\s\u00a0]+/, "")),
  };
}

describe.skipIf(!existsSync(CHROMIUM))("the main view on a week of runs, in a real headless Chromium", () => {
  it("buckets a week in 3 hours, pages 2,000 runs by 50, and opens one", async () => {
    const store = join(mkdtempSync(join(tmpdir(), "aw-week-")), "runs.jsonl");
    // Runs over the week before 2026-11-01 00:00 UTC (a multiple of 3 h), one every 302.4 s.
    writeDashboardStore(store, 2_000, Date.UTC(2026, 10, 1));
    const dashboard = await serveDashboard(store, { port: 0 });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    try {
      await page.goto(dashboard.url);
      await page.waitForFunction(
        () => document.querySelector('[data-testid="run-count"]')?.textContent === "1–50 of 2,000 runs",
      );
      // The first run to the last: 1,999 × 302.4 s, just under 7 days; at most 60 buckets makes them
      // 3 h (1 h would make 168), and 604,497.6 s / 10,800 s puts the last run in the 56th.
      expect(await page.textContent("#bucket")).toBe("buckets of 3 h · hover a point for its values");
      expect(await page.locator('[data-testid="chart-tasks"] rect').count()).toBe(56);
      await page.click("#next");
      await page.waitForFunction(
        () => document.querySelector('[data-testid="run-count"]')?.textContent === "51–100 of 2,000 runs",
      );
      await page.click("#prev");
      await page.waitForFunction(
        () => document.querySelector('[data-testid="run-count"]')?.textContent === "1–50 of 2,000 runs",
      );
      await page.locator("tr.run").nth(2).click();
      await page.waitForSelector('[data-testid="step"]');
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, "dashboard.png"), fullPage: true });
    } finally {
      await page.close();
      await dashboard.close();
    }
  }, 60_000);
});

describe.skipIf(!existsSync(CHROMIUM))("a run's panel, in a real headless Chromium", () => {
  it("says what each recovery did, marks the loop hint, and shows a trip's reason once", async () => {
    const store = join(mkdtempSync(join(tmpdir(), "aw-recover-")), "runs.jsonl");
    const backup = tool(async ({ q }: { q: string }) => `backup results for ${q}`, {
      name: "search_backup",
      description: "The backup search.",
      schema: z.object({ q: z.string() }),
    });
    const warden = new Warden({
      tracing: false,
      store,
      captureContent: true,
      // 4, not 3: the retries of search are the same call 3 times.
      loops: { repeats: 4, stop: true },
      recovery: { retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 2 }, fallbacks: { search: backup } },
    });
    // 1. search fails with a transient error: retried twice (3 attempts), then the fallback answers.
    await agent(warden, "retrier", callOnce("search", { q: "tides" }), [
      always("search", "503 Service Unavailable"),
    ]).invoke(user("When is high tide in Bergen?"));
    // 2. read_file fails for good: the model is sent a corrective message.
    await agent(warden, "reader", callOnce("read_file", { q: "/missing.txt" }), [
      always("read_file", "ENOENT: no such file or directory, open '/missing.txt'"),
    ]).invoke(user("Read /missing.txt"));
    // 3. The answer fails a check; the agent node runs again with the check's feedback.
    const llm = new ScriptedChatModel({
      model: "test-model",
      script: (m) => {
        const last = m.at(-1);
        return last?.getType() === "human" && last.name === "agentwarden"
          ? { content: '{"answer": 42}' }
          : { content: "The answer is 42." };
      },
    });
    await wrapGraph(createReactAgent({ llm, tools: [], name: "corrector" }), {
      warden,
      corrections: [{ evaluators: [schemaCheck("answer_json", z.object({ answer: z.number() }))] }],
    }).invoke(user("What is six times seven?"));
    // 4. The same call again and again: the 4th gets a hint, the 5th trips the loop breaker.
    const ping = tool(async () => "pong", { name: "ping", description: "Ping.", schema: z.object({ q: z.string() }) });
    const looper = agent(warden, "looper", () => ({ toolCalls: [{ name: "ping", args: { q: "same" } }] }), [ping]);
    await expect(looper.invoke(user("ping until it answers"))).rejects.toThrow(/loop breaker tripped/);
    await warden.shutdown();

    const dashboard = await serveDashboard(store, { port: 0 });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    try {
      await page.goto(dashboard.url);
      await page.waitForSelector("tr.run");
      // The list shows each task's input and answer (captured), as the task column.
      const retrier = page.locator("tr.run", { hasText: "retrier" });
      expect(await retrier.locator("td.task").textContent()).toBe(
        "› When is high tide in Bergen?‹ result: backup results for tides",
      );

      await retrier.click();
      expect(await panel(page, /^Run retrier · success/)).toEqual({
        recoveries: ["retried search (3 attempts in all) (failed)", "fell back to search_backup for search"],
        hints: 0,
        // The first failure's message once; the retry step and the two retried calls refer to it.
        errors: ["Error: 503 Service Unavailable"],
        same: ["recovery_failed (the same as above)", "Error (the same as above)", "Error (the same as above)"],
      });
      mkdirSync(ARTIFACTS, { recursive: true });
      await page
        .locator("section", { has: page.locator("#run") })
        .screenshot({ path: join(ARTIFACTS, "dashboard-run.png") });

      await page.locator("tr.run", { hasText: "reader" }).click();
      const reader = await panel(page, /^Run reader · success/);
      expect(reader.recoveries).toEqual(["sent the model a corrective message about read_file"]);

      await page.locator("tr.run", { hasText: "corrector" }).click();
      const corrector = await panel(page, /^Run corrector · success/);
      expect(corrector.recoveries).toEqual(["correction: ran agent again with the failed check's feedback"]);

      await page.locator("tr.run", { hasText: "looper" }).click();
      const looped = await panel(page, /^Run looper · failure/);
      expect(looped.hints).toBe(1);
      // The trip's reason is shown once, with the run's error; the call it stopped refers to it.
      const reason = /loop breaker tripped/;
      expect(looped.errors.filter((e) => reason.test(e))).toHaveLength(1);
      expect(looped.errors[0]).toMatch(/^BREAKER_TRIP: .*loop breaker tripped/);
      expect(looped.same.length).toBeGreaterThan(0);
    } finally {
      await page.close();
      await dashboard.close();
    }
  }, 60_000);

  it("served from the agent's process: a running task's steps appear live before it ends", async () => {
    const store = join(mkdtempSync(join(tmpdir(), "aw-live-")), "runs.jsonl");
    const warden = new Warden({ tracing: false, store, dashboard: { port: 0 } });
    const dashboard = await warden.dashboard;
    if (!dashboard) throw new Error("the dashboard did not start");
    expect(dashboard.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const slow = tool(
      async ({ q }: { q: string }) => {
        await gate;
        return `fetched ${q}`;
      },
      { name: "slow_fetch", description: "Fetches slowly.", schema: z.object({ q: z.string() }) },
    );
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    try {
      await page.goto(dashboard.url);
      await page.waitForSelector("#live:not([hidden])");
      let ended = false;
      const task = agent(warden, "waiter", callOnce("slow_fetch", { q: "report" }), [slow])
        .invoke(user("fetch the report"))
        .then((out) => {
          ended = true;
          return out;
        });
      // The task shows as running, and its steps so far, while the tool waits.
      const running = page.locator("tr.run.running", { hasText: "waiter" });
      await running.waitFor();
      await running.click();
      await page.waitForFunction(() =>
        Array.from(document.querySelectorAll('[data-testid="step"]')).some((s) =>
          (s as unknown as { textContent: string }).textContent.includes("tool slow_fetch"),
        ),
      );
      expect(await page.textContent("#run-title")).toBe("Run waiter · running");
      const steps = (await page.locator('[data-testid="step"] .name').allTextContents()).map((t) =>
        t.replace(/\u00a0/g, " ").trimEnd(),
      );
      expect(steps).toEqual(["agent waiter", "  agent", "    chat test-model", "  tools", "    tool slow_fetch"]);
      expect(await page.locator(".step.running", { hasText: "tool slow_fetch" }).count()).toBe(1);
      expect(ended).toBe(false);

      open();
      await task;
      // Ended: it leaves the running list and is read from the store, with all its steps.
      await page.locator("tr.run:not(.running)", { hasText: "waiter" }).waitFor();
      await page.waitForFunction(() =>
        document.querySelector("#run-title")?.textContent?.startsWith("Run waiter · success"),
      );
      expect(await page.locator("tr.run.running").count()).toBe(0);
      expect(await page.locator('[data-testid="step"]').count()).toBe(7);
    } finally {
      await page.close();
      await warden.shutdown();
    }
  }, 60_000);
});
