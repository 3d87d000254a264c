import {
  type CompareOptions,
  type CompareSide,
  type Comparison,
  compareVersions,
  parseThresholds,
} from "../quality/compare.js";
import { printable } from "./printable.js";
import { reportStore } from "./report.js";

export interface CompareStoresOptions extends CompareOptions {
  /** Compare only this version of the baseline store (default: all its tasks). */
  baselineVersion?: string;
  candidateVersion?: string;
}

/** Reads two run stores and compares the candidate's figures with the baseline's. */
export async function compareStores(
  baselinePath: string,
  candidatePath: string,
  options: CompareStoresOptions = {},
  onSkip?: (path: string, line: number, message: string) => void,
): Promise<Comparison> {
  const side = async (path: string, version: string | undefined): Promise<CompareSide> => {
    const { snapshot } = await reportStore(path, (e) => onSkip?.(path, e.line, e.message));
    if (version === undefined) return { ...snapshot.cumulative, evals: snapshot.evals };
    const v = snapshot.byVersion[version];
    if (!v)
      throw new RangeError(
        `no version "${version}" in ${path} (versions: ${Object.keys(snapshot.byVersion).join(", ") || "none"})`,
      );
    return v;
  };
  return compareVersions(
    await side(baselinePath, options.baselineVersion),
    await side(candidatePath, options.candidateVersion),
    options,
  );
}

/** The thresholds of `--max-drop` and `--max-rise`. */
export function thresholdsFrom(maxDrop: string | undefined, maxRise: string | undefined): CompareOptions {
  const o: CompareOptions = {};
  if (maxDrop !== undefined) o.maxDrop = parseThresholds(maxDrop, "--max-drop");
  if (maxRise !== undefined) o.maxRise = parseThresholds(maxRise, "--max-rise");
  return o;
}

const money = (x: number) => `$${Math.abs(x) < 0.01 ? x.toFixed(6) : x.toFixed(4)}`;

function value(metric: string, x: number | null): string {
  if (x === null) return "n/a";
  if (metric === "asf" || metric === "err") return `${(x * 100).toFixed(1)}%`;
  if (metric === "cpcs" || metric === "cost_per_task") return money(x);
  return x.toFixed(3);
}

function change(metric: string, x: number | null): string {
  if (x === null) return "n/a";
  const sign = x > 0 ? "+" : x < 0 ? "-" : "±";
  if (metric === "asf" || metric === "err") return `${sign}${(Math.abs(x) * 100).toFixed(1)} pp`;
  if (metric === "cpcs" || metric === "cost_per_task") return `${sign}${money(Math.abs(x))}`;
  return `${sign}${Math.abs(x).toFixed(3)}`;
}

/** The side-by-side table `agentwarden compare` prints. */
export function formatComparison(c: Comparison): string {
  const rows = [["metric", "baseline (n)", "candidate (n)", "change", "threshold", "verdict"]];
  for (const m of c.metrics) {
    const t = m.threshold;
    const threshold = t ? `${t.direction} ≤ ${t.relative ? `${+(t.value * 100).toFixed(4)}%` : t.value}` : "-";
    const interval = m.interval ? ` [${m.interval[0].toFixed(3)}, ${m.interval[1].toFixed(3)}]` : "";
    const verdict =
      m.verdict === "not_significant"
        ? `not significant (95% interval${interval} includes 0)`
        : m.verdict === "fail"
          ? `FAIL${interval ? ` (95% interval${interval})` : ""}`
          : m.verdict === "no_data"
            ? "no data"
            : "ok";
    rows.push([
      m.metric,
      `${value(m.metric, m.baseline)} (${m.baselineN})`,
      `${value(m.metric, m.candidate)} (${m.candidateN})`,
      change(m.metric, m.change),
      threshold,
      verdict,
    ]);
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  const lines = rows.map(
    (r) => `  ${r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join("  ")}`,
  );
  const failed = c.metrics.filter((m) => m.verdict === "fail").map((m) => m.metric);
  lines.push("");
  lines.push(
    failed.length ? `regression: ${failed.join(", ")} beyond threshold` : "no regression beyond the thresholds",
  );
  return printable(lines.join("\n"));
}
