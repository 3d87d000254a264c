import type { MetricsSnapshot } from "../metrics/MetricsSubscriber.js";
import type { ScoreFigures } from "./scores.js";
import { NO_VERSION } from "./versions.js";

const pct = (x: number | null): string => (x === null ? "n/a" : `${(x * 100).toFixed(1)}%`);
const usd = (x: number | null): string => (x === null ? "n/a" : `$${x < 0.01 ? x.toFixed(6) : x.toFixed(4)}`);
const score = (e: ScoreFigures | undefined): string =>
  e === undefined || e.meanScore === null ? "n/a" : `${e.meanScore.toFixed(3)} (${e.scored})`;

/**
 * The report's evaluation and version sections: each evaluator's (and feedback's) results with the
 * judge cost beside the agents' own, and the versions side by side (ASF, ERR, CPCS and the mean
 * evaluation scores, each with its count). Empty when there are neither evaluations nor versions.
 */
export function formatQuality(snapshot: MetricsSnapshot): string[] {
  const out: string[] = [];
  const evals = Object.entries(snapshot.evals);
  if (evals.length > 0) {
    out.push("");
    out.push(
      `evaluations (online evaluators and user feedback; judge cost ${usd(snapshot.evalCostUsd)} beside the agents' ${usd(snapshot.cumulative.totals.costUsd)}):`,
    );
    out.push(row(["name", "results", "mean score", "pass rate", "judge cost"]));
    for (const [name, e] of evals) {
      out.push(
        row([
          name,
          String(e.count),
          e.meanScore === null ? "n/a" : e.meanScore.toFixed(3),
          `${pct(e.passRate)} (${e.passed}/${e.passed + e.failed})`,
          usd(e.costUsd),
        ]),
      );
    }
  }
  const versions = Object.entries(snapshot.byVersion);
  if (versions.length > 0 && !(versions.length === 1 && versions[0]?.[0] === NO_VERSION)) {
    const names = [...new Set(versions.flatMap(([, v]) => Object.keys(v.evals)))].sort();
    out.push("");
    out.push("per version:");
    out.push(row(["version", "tasks", "ASF (n)", "ERR (n)", "CPCS (n)", ...names.map((n) => `${n} (n)`)]));
    for (const [version, v] of versions) {
      const t = v.totals;
      const failures = t.failures.tool + t.failures.model + t.failures.eval;
      out.push(
        row([
          version,
          String(t.tasks),
          `${pct(v.asf)} (${t.success + t.failure})`,
          `${pct(v.err)} (${failures})`,
          `${usd(v.cpcs)} (${t.completedSubtasks})`,
          ...names.map((n) => score(v.evals[n])),
        ]),
      );
    }
  }
  return out;
}

function row(cells: string[]): string {
  return `  ${cells.map((c, i) => (i === 0 ? c.padEnd(24) : c.padStart(16))).join(" ")}`;
}
