import type { Figures } from "../metrics/totals.js";
import type { ScoreFigures } from "./scores.js";
import { meanDifference, proportionDifference } from "./significance.js";

/** The figures of one side of a comparison: a store, or one version in it. */
export interface CompareSide extends Figures {
  evals: Record<string, ScoreFigures>;
}

/** How far a metric may move the wrong way: an absolute amount, or a share of the baseline (`10%`). */
export interface Threshold {
  value: number;
  relative: boolean;
}

export interface CompareOptions {
  /** Largest allowed drop, by metric (`asf`, `err`, `eval:NAME`). */
  maxDrop?: Record<string, Threshold>;
  /** Largest allowed rise, by metric (`cpcs`, `cost_per_task`). */
  maxRise?: Record<string, Threshold>;
}

/**
 * `pass`: within its threshold (or no threshold). `fail`: beyond it, and the difference is larger
 * than the noise of the sample sizes (or the metric has no noise model). `not_significant`: beyond
 * the threshold, but the 95% interval of the difference includes 0. `no_data`: a side has no value.
 */
export type Verdict = "pass" | "fail" | "not_significant" | "no_data";

export interface MetricComparison {
  metric: string;
  baseline: number | null;
  candidate: number | null;
  /** What each value is computed over (ended tasks, failures, completed subtasks, scores). */
  baselineN: number;
  candidateN: number;
  /** candidate − baseline. */
  change: number | null;
  threshold?: Threshold & { direction: "drop" | "rise" };
  /** 95% interval of candidate − baseline, when the metric has a noise model. */
  interval?: [number, number];
  verdict: Verdict;
}

export interface Comparison {
  metrics: MetricComparison[];
  /** True when some metric failed. */
  regressed: boolean;
}

/**
 * Compares a candidate's figures with a baseline's: ASF and ERR with Newcombe's interval of the
 * difference of two proportions, evaluation scores with the normal interval of the difference of
 * means, CPCS and cost per task by their thresholds alone (no noise model).
 */
export function compareVersions(
  baseline: CompareSide,
  candidate: CompareSide,
  options: CompareOptions = {},
): Comparison {
  checkThresholds(options);
  const b = baseline.totals;
  const c = candidate.totals;
  const rows: Array<Omit<MetricComparison, "verdict" | "threshold">> = [];
  const proportion = (metric: string, k1: number, n1: number, k2: number, n2: number) => {
    const row: Omit<MetricComparison, "verdict" | "threshold"> = {
      metric,
      baseline: n1 > 0 ? k1 / n1 : null,
      candidate: n2 > 0 ? k2 / n2 : null,
      baselineN: n1,
      candidateN: n2,
      change: n1 > 0 && n2 > 0 ? k2 / n2 - k1 / n1 : null,
    };
    if (n1 > 0 && n2 > 0) row.interval = proportionDifference(k1, n1, k2, n2);
    rows.push(row);
  };
  proportion("asf", b.success, b.success + b.failure, c.success, c.success + c.failure);
  const sum = (k: { tool: number; model: number; eval: number }) => k.tool + k.model + k.eval;
  proportion("err", sum(b.recovered), sum(b.failures), sum(c.recovered), sum(c.failures));
  const plain = (metric: string, x: number | null, nx: number, y: number | null, ny: number) =>
    rows.push({
      metric,
      baseline: x,
      candidate: y,
      baselineN: nx,
      candidateN: ny,
      change: x !== null && y !== null ? y - x : null,
    });
  plain("cpcs", baseline.cpcs, b.completedSubtasks, candidate.cpcs, c.completedSubtasks);
  const ended = (t: typeof b) => t.success + t.failure + t.cancelled;
  plain(
    "cost_per_task",
    ended(b) > 0 ? b.costUsd / ended(b) : null,
    ended(b),
    ended(c) > 0 ? c.costUsd / ended(c) : null,
    ended(c),
  );
  const names = [...new Set([...Object.keys(baseline.evals), ...Object.keys(candidate.evals)])].sort();
  for (const name of names) {
    const x = baseline.evals[name];
    const y = candidate.evals[name];
    const row: Omit<MetricComparison, "verdict" | "threshold"> = {
      metric: `eval:${name}`,
      baseline: x?.meanScore ?? null,
      candidate: y?.meanScore ?? null,
      baselineN: x?.scored ?? 0,
      candidateN: y?.scored ?? 0,
      change: x?.meanScore != null && y?.meanScore != null ? y.meanScore - x.meanScore : null,
    };
    const interval =
      x && y
        ? meanDifference(
            { n: x.scored, sum: x.scoreSum, sumSq: x.scoreSumSq },
            { n: y.scored, sum: y.scoreSum, sumSq: y.scoreSumSq },
          )
        : undefined;
    if (interval) row.interval = interval;
    rows.push(row);
  }
  // A threshold on a metric neither store has (a misspelt evaluator name) is shown as a row with
  // no data, not dropped: a gate that silently checks nothing would always pass.
  const known = new Set(rows.map((r) => r.metric));
  for (const metric of [...Object.keys(options.maxDrop ?? {}), ...Object.keys(options.maxRise ?? {})]) {
    if (known.has(metric)) continue;
    known.add(metric);
    rows.push({ metric, baseline: null, candidate: null, baselineN: 0, candidateN: 0, change: null });
  }
  const metrics = rows.map((row) => judge(row, options));
  return { metrics, regressed: metrics.some((m) => m.verdict === "fail") };
}

function judge(row: Omit<MetricComparison, "verdict" | "threshold">, options: CompareOptions): MetricComparison {
  const drop = options.maxDrop?.[row.metric];
  const rise = options.maxRise?.[row.metric];
  const out: MetricComparison = { ...row, verdict: "pass" };
  if (drop) out.threshold = { ...drop, direction: "drop" };
  else if (rise) out.threshold = { ...rise, direction: "rise" };
  if (row.baseline === null || row.candidate === null || row.change === null) {
    out.verdict = "no_data";
    return out;
  }
  const t = out.threshold;
  if (!t) return out;
  const limit = t.relative ? t.value * Math.abs(row.baseline) : t.value;
  const moved = t.direction === "drop" ? -row.change : row.change;
  // A tiny epsilon so that a change exactly at the threshold (in binary floating point) passes.
  if (!(moved > limit + 1e-12)) return out;
  const i = row.interval;
  out.verdict = i && i[0] <= 0 && i[1] >= 0 ? "not_significant" : "fail";
  return out;
}

/** Parses `asf=0.02,err=0.05` or `cpcs=10%` (a share of the baseline) into thresholds. */
/** Thresholds given in code: each `{ value: number >= 0, relative: boolean }` on a metric that exists. */
function checkThresholds(options: CompareOptions): void {
  for (const side of ["maxDrop", "maxRise"] as const) {
    const table = options[side];
    if (table === undefined) continue;
    if (typeof table !== "object" || table === null)
      throw new TypeError(`agentwarden: option ${side} must be an object of thresholds by metric`);
    for (const [metric, t] of Object.entries(table)) {
      const at = `${side}.${metric}`;
      if (!metric.startsWith("eval:") && !CORE_METRICS.includes(metric))
        throw new TypeError(
          `agentwarden: option ${at}: unknown metric (metrics: ${CORE_METRICS.join(", ")}, or eval:<evaluator name>)`,
        );
      const ok =
        typeof t === "object" &&
        t !== null &&
        typeof t.value === "number" &&
        Number.isFinite(t.value) &&
        t.value >= 0 &&
        typeof t.relative === "boolean";
      if (!ok)
        throw new TypeError(
          `agentwarden: option ${at} must be { value: a number >= 0, relative: boolean }, got ${JSON.stringify(t)}`,
        );
    }
  }
}

/** The metrics every comparison has (besides each evaluator's `eval:<name>`). */
const CORE_METRICS: readonly string[] = ["asf", "err", "cpcs", "cost_per_task"];

export function parseThresholds(text: string, flag: string): Record<string, Threshold> {
  const out: Record<string, Threshold> = Object.create(null);
  for (const part of text.split(",")) {
    const m = /^\s*([A-Za-z_][\w.:-]*)\s*=\s*([0-9]*\.?[0-9]+)\s*(%?)\s*$/.exec(part);
    if (!m)
      throw new TypeError(
        `${flag} expects metric=value[,metric=value] (value a number, or a percentage of the baseline), got "${part}"`,
      );
    const [, metric, number, percent] = m as unknown as [string, string, string, string];
    const value = Number(number);
    const name = metric.toLowerCase().startsWith("eval:") ? `eval:${metric.slice(5)}` : metric.toLowerCase();
    // A misspelt core metric would make a gate that checks nothing: refused. (An evaluator's name
    // is only known from the stores: a misspelt one is a "no data" row.)
    if (!name.startsWith("eval:") && !CORE_METRICS.includes(name))
      throw new TypeError(
        `${flag}: unknown metric "${metric}" (metrics: ${CORE_METRICS.join(", ")}, or eval:<evaluator name>)`,
      );
    out[name] = percent ? { value: value / 100, relative: true } : { value, relative: false };
  }
  return out;
}
