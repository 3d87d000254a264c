import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Annotation, StateGraph } from "@langchain/langgraph";
import { beforeAll, describe, expect, it } from "vitest";
import { wrapGraph } from "../adapters/langgraph/index.js";
import { compareVersions, emptyTotals, figures, type ScoreFigures, scoreFigures, Warden } from "../src/index.js";

/** Runs the CLI from source as a user runs the bin: its exit code, stdout and stderr. */
function cli(...args: string[]) {
  const r = spawnSync("npx", ["tsx", "src/cli/main.ts", ...args], { encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Writes a store of `success` successful and `failure` failed tasks of a one-node workflow,
 * tagged `version`.
 */
async function batch(store: string, runs: Array<{ version: string; success: number; failure: number }>) {
  const warden = new Warden({ tracing: false, store });
  const graph = new StateGraph(Annotation.Root({ fail: Annotation<boolean>() }))
    .addNode("work", (s) => {
      if (s.fail) throw new Error("work failed");
      return {};
    })
    .addEdge("__start__", "work")
    .compile({ name: "batch" });
  for (const { version, success, failure } of runs) {
    const wrapped = wrapGraph(graph, { warden, version });
    for (let i = 0; i < success; i++) await wrapped.invoke({ fail: false });
    for (let i = 0; i < failure; i++) await wrapped.invoke({ fail: true }).catch(() => undefined);
  }
  await warden.shutdown();
}

/** The line of `metric` in the comparison table. */
const line = (stdout: string, metric: string) => stdout.split("\n").find((l) => l.trimStart().startsWith(`${metric} `));

describe("agentwarden compare (the regression gate)", () => {
  const dir = mkdtempSync(join(tmpdir(), "aw-compare-"));
  const path = (name: string) => join(dir, name);
  beforeAll(async () => {
    await batch(path("baseline.jsonl"), [{ version: "v1", success: 48, failure: 2 }]);
    await batch(path("worse.jsonl"), [{ version: "v2", success: 40, failure: 10 }]);
    await batch(path("small-baseline.jsonl"), [{ version: "v1", success: 9, failure: 1 }]);
    await batch(path("small-candidate.jsonl"), [{ version: "v2", success: 8, failure: 2 }]);
    await batch(path("both.jsonl"), [
      { version: "v1", success: 48, failure: 2 },
      { version: "v2", success: 40, failure: 10 },
    ]);
  }, 60_000);

  it("fails a drop beyond its threshold that is larger than the noise", () => {
    // ASF 48/50 = 96% → 40/50 = 80%: a drop of 16 points, threshold 2. Newcombe's interval of the
    // difference from the Wilson intervals [0.8654, 0.9890] and [0.6696, 0.8876]:
    // −0.16 − √((0.80−0.6696)² + (0.9890−0.96)²) = −0.2935 to −0.16 + √((0.8876−0.80)² + (0.96−0.8654)²) = −0.0311.
    const r = cli("compare", path("baseline.jsonl"), path("worse.jsonl"), "--max-drop", "asf=0.02,err=0.05");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(1);
    expect(line(r.stdout, "asf")).toMatch(
      /96\.0% \(50\)\s+80\.0% \(50\)\s+-16\.0 pp\s+drop ≤ 0\.02\s+FAIL \(95% interval \[-0\.294, -0\.031\]\)$/,
    );
    // No failure was recoverable in either (a node error is not a tool, model or eval failure).
    expect(line(r.stdout, "err")).toMatch(/n\/a \(0\)\s+n\/a \(0\)\s+n\/a\s+drop ≤ 0\.05\s+no data$/);
    expect(r.stdout).toContain("regression: asf beyond threshold");
  });

  it("shows a threshold on a metric neither store has (a misspelt evaluator) as a row with no data, not silently ignored", () => {
    const r = cli("compare", path("baseline.jsonl"), path("worse.jsonl"), "--max-drop", "eval:helpfulnes=0.05");
    expect(r.code).toBe(0);
    expect(line(r.stdout, "eval:helpfulnes")).toMatch(/n\/a \(0\)\s+n\/a \(0\)\s+n\/a\s+drop ≤ 0\.05\s+no data$/);
  });

  it("passes a drop within the noise of small samples, saying it is not significant", () => {
    // 9/10 → 8/10: 10 points down, beyond 0.02, but the interval [−0.4205, 0.2362] includes 0.
    const r = cli("compare", path("small-baseline.jsonl"), path("small-candidate.jsonl"), "--max-drop", "asf=0.02");
    expect(r.code).toBe(0);
    expect(line(r.stdout, "asf")).toMatch(
      /90\.0% \(10\)\s+80\.0% \(10\)\s+-10\.0 pp\s+drop ≤ 0\.02\s+not significant \(95% interval \[-0\.421, 0\.236\] includes 0\)$/,
    );
    expect(r.stdout).toContain("no regression beyond the thresholds");
  });

  it("passes without thresholds, and compares two versions of one store", () => {
    expect(cli("compare", path("baseline.jsonl"), path("worse.jsonl")).code).toBe(0);
    const r = cli(
      "compare",
      path("both.jsonl"),
      path("both.jsonl"),
      "--baseline-version",
      "v1",
      "--candidate-version",
      "v2",
      "--max-drop",
      "asf=5%",
      "--json",
    );
    expect(r.code).toBe(1);
    const asf = (
      JSON.parse(r.stdout) as { metrics: Array<{ metric: string; verdict: string; change: number }> }
    ).metrics.find((m) => m.metric === "asf");
    expect(asf?.verdict).toBe("fail");
    expect(asf?.change).toBeCloseTo(-0.16, 12);
    const missing = cli("compare", path("both.jsonl"), path("both.jsonl"), "--baseline-version", "v9");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(
      'agentwarden: no version "v9" in ' +
        path("both.jsonl") +
        " (versions: v1, v2)\nrun agentwarden --help for usage\n",
    );
    // A misspelt core metric is refused (a gate on it would check nothing); exit 2, not a regression.
    const typo = cli("compare", path("both.jsonl"), path("both.jsonl"), "--max-drop", "ass=0.02");
    expect(typo.code).toBe(2);
    expect(typo.stderr.split("\n")[0]).toBe(
      'agentwarden: --max-drop: unknown metric "ass" (metrics: asf, err, cpcs, cost_per_task, or eval:<evaluator name>)',
    );
  });

  it("adds up a threshold flag given twice", () => {
    const r = cli(
      "compare",
      path("both.jsonl"),
      path("both.jsonl"),
      "--max-drop",
      "asf=0.1",
      "--max-drop",
      "err=0.2",
      "--json",
    );
    expect(r.code).toBe(0);
    const rows = (JSON.parse(r.stdout) as { metrics: Array<{ metric: string; threshold?: { value: number } }> })
      .metrics;
    expect(rows.filter((m) => m.threshold).map((m) => [m.metric, m.threshold?.value])).toEqual([
      ["asf", 0.1],
      ["err", 0.2],
    ]);
  });

  // A file that stat() calls a file and open() refuses, even to root (sysfs keeps its modes).
  const unreadable = "/sys/bus/pci/rescan";
  it.skipIf(!existsSync(unreadable))("exits 2 (could not compare) when a store cannot be opened after all", () => {
    const r = cli("compare", path("both.jsonl"), unreadable);
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n")[0]).toBe(`agentwarden: EACCES: permission denied, open '${unreadable}'`);
  });

  it("refuses a threshold given in code that is not { value, relative } or names no metric", () => {
    const side = { ...figures(emptyTotals()), evals: {} };
    expect(() => compareVersions(side, side, { maxDrop: { err: { abs: 0.01 } as never } })).toThrow(
      'agentwarden: option maxDrop.err must be { value: a number >= 0, relative: boolean }, got {"abs":0.01}',
    );
    expect(() => compareVersions(side, side, { maxRise: { cpsc: { value: 1, relative: false } } })).toThrow(
      "agentwarden: option maxRise.cpsc: unknown metric (metrics: asf, err, cpcs, cost_per_task, or eval:<evaluator name>)",
    );
    expect(compareVersions(side, side, { maxDrop: { "eval:judge": { value: 0.1, relative: false } } }).regressed).toBe(
      false,
    );
  });

  it("reports the versions side by side", () => {
    const r = cli("report", path("both.jsonl"));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /per version:\n.*version.*\n\s+v1\s+50\s+96\.0% \(50\)\s+n\/a \(0\)\s+n\/a \(0\)\n\s+v2\s+50\s+80\.0% \(50\)/,
    );
  });

  it("refuses a malformed threshold (exit 2)", () => {
    const r = cli("compare", path("baseline.jsonl"), path("worse.jsonl"), "--max-drop", "asf");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--max-drop expects metric=value[,metric=value]");
  });
});

describe("compareVersions", () => {
  const side = (costUsd: number, completed: number, evals: Record<string, ScoreFigures> = {}) => {
    const t = emptyTotals();
    t.tasks = completed;
    t.success = completed;
    t.subtasks = completed;
    t.completedSubtasks = completed;
    t.costUsd = costUsd;
    return { ...figures(t), evals };
  };
  const scores = (...values: number[]) =>
    scoreFigures({
      count: values.length,
      passed: 0,
      failed: 0,
      scored: values.length,
      scoreSum: values.reduce((a, b) => a + b, 0),
      scoreSumSq: values.reduce((a, b) => a + b * b, 0),
      costUsd: 0,
      costUnknownCalls: 0,
    });

  it("fails a CPCS rise beyond a relative threshold (no noise model for cost)", () => {
    // $1.00 over 100 subtasks = $0.0100; $1.20 over 100 = $0.0120: +20%.
    const fail = compareVersions(side(1, 100), side(1.2, 100), { maxRise: { cpcs: { value: 0.1, relative: true } } });
    expect(fail.metrics.find((m) => m.metric === "cpcs")).toMatchObject({ verdict: "fail", baselineN: 100 });
    expect(fail.regressed).toBe(true);
    const pass = compareVersions(side(1, 100), side(1.2, 100), { maxRise: { cpcs: { value: 0.25, relative: true } } });
    expect(pass.regressed).toBe(false);
  });

  it("compares evaluation scores with the interval of the difference of means", () => {
    // Means 0.8 and 0.2, each variance (Σx² − (Σx)²/n)/(n−1) = 0.2; se = √(0.2/5 + 0.2/5) = 0.28284;
    // −0.6 ± 1.96·0.28284 = [−1.1544, −0.0456]: significant.
    const c = compareVersions(
      side(1, 1, { helpfulness: scores(1, 1, 1, 1, 0) }),
      side(1, 1, { helpfulness: scores(0, 0, 1, 0, 0) }),
      { maxDrop: { "eval:helpfulness": { value: 0.1, relative: false } } },
    );
    const m = c.metrics.find((x) => x.metric === "eval:helpfulness");
    expect(m?.verdict).toBe("fail");
    expect(m?.change).toBeCloseTo(-0.6, 12);
    expect(m?.interval?.[0]).toBeCloseTo(-1.1544, 4);
    expect(m?.interval?.[1]).toBeCloseTo(-0.0456, 4);
    // One score a side: no interval, and the drop alone decides.
    const one = compareVersions(side(1, 1, { h: scores(1) }), side(1, 1, { h: scores(0.95) }), {
      maxDrop: { "eval:h": { value: 0.1, relative: false } },
    });
    expect(one.metrics.find((x) => x.metric === "eval:h")?.verdict).toBe("pass");
  });
});
