import { argusCounts, argusScores } from "../metrics/argus.js";
import { type MetricsSnapshot, MetricsSubscriber } from "../metrics/MetricsSubscriber.js";
import type { TaskSummary } from "../metrics/summary.js";
import type { Figures } from "../metrics/totals.js";
import { RecordJoin } from "../quality/join.js";
import { formatQuality } from "../quality/versionReport.js";
import type { StoreLineError } from "../store/readStore.js";
import { scanStore } from "../store/scanStore.js";
import { printable } from "./printable.js";

/** Aggregates store summaries exactly as the in-process metrics do. */
export function aggregate(summaries: readonly TaskSummary[]): MetricsSnapshot {
  const m = newMetrics();
  for (const s of summaries) m.add(s);
  return m.snapshot();
}

/** Unreadable lines a report keeps (the first ones); all are counted. */
export const MAX_REPORTED_SKIPS = 1000;

export interface StoreReport {
  snapshot: MetricsSnapshot;
  /** The first `MAX_REPORTED_SKIPS` unreadable lines. */
  skipped: StoreLineError[];
  skippedCount: number;
}

/**
 * Aggregates a store as `aggregate` does, streaming it: each line is added as it is read, so
 * memory does not grow with the store. `onSkip` sees every unreadable line.
 */
export async function reportStore(path: string, onSkip?: (error: StoreLineError) => void): Promise<StoreReport> {
  const m = newMetrics();
  const skipped: StoreLineError[] = [];
  let skippedCount = 0;
  const join = new RecordJoin();
  await scanStore(path, {
    summary: (s) => {
      m.add(s);
      join.addSummary(s);
    },
    // Evaluation records (online evals, feedback): counted under their run's version.
    record: (r) => m.addEval(r, join.versionOf(r)),
    error: (e) => {
      skippedCount++;
      if (skipped.length < MAX_REPORTED_SKIPS) skipped.push(e);
      onSkip?.(e);
    },
  });
  return { snapshot: m.snapshot(), skipped, skippedCount };
}

function newMetrics(): MetricsSubscriber {
  return new MetricsSubscriber({ windowTasks: 100, windowSeconds: 300, maxKeys: 10_000, meterProvider: undefined });
}

export const pct = (x: number | null): string => (x === null ? "n/a" : `${(x * 100).toFixed(1)}%`);
export const usd = (x: number | null): string => (x === null ? "n/a" : `$${x < 0.01 ? x.toFixed(6) : x.toFixed(4)}`);

/** The report `agentwarden report <store>` prints. */
export function formatReport(
  snapshot: MetricsSnapshot,
  errors: readonly StoreLineError[] = [],
  skippedCount = errors.length,
): string {
  const out: string[] = [];
  const c = snapshot.cumulative;
  const t = c.totals;
  const failures = t.failures.tool + t.failures.model + t.failures.eval;
  const recovered = t.recovered.tool + t.recovered.model + t.recovered.eval;
  out.push(
    `tasks: ${t.tasks} (${t.success} success, ${t.failure} failure, ${t.cancelled} cancelled, ${t.interrupted} interrupted)`,
  );
  out.push("");
  out.push(`  ASF   ${pct(c.asf).padStart(8)}   ${t.success} of ${t.success + t.failure} ended tasks succeeded`);
  out.push(
    `  ERR   ${pct(c.err).padStart(8)}   ${recovered} of ${failures} failures recovered` +
      ` (tool ${frac(t.recovered.tool, t.failures.tool)}, model ${frac(t.recovered.model, t.failures.model)}, eval ${frac(t.recovered.eval, t.failures.eval)}; ${t.injectedRecoveries} injected, ${t.organicRecoveries} organic)`,
  );
  out.push(
    `  CPCS  ${usd(c.cpcs).padStart(8)}   ${usd(t.costUsd)} over ${t.completedSubtasks} completed subtasks${costNote(c)}`,
  );
  out.push(
    `  cost per successful task ${usd(c.costPerSuccessfulTask)}, failures per task ${c.failuresPerTask === null ? "n/a" : c.failuresPerTask.toFixed(2)}, breaker trips ${tripText(t.trips)}`,
  );
  out.push("");
  out.push("per agent:");
  out.push(row(["agent", "tasks", "ASF", "ERR", "CPCS", "cost"]));
  for (const [name, f] of Object.entries(snapshot.byAgent)) {
    out.push(row([name, String(f.totals.tasks), pct(f.asf), pct(f.err), usd(f.cpcs), usd(f.totals.costUsd)]));
  }
  out.push("");
  out.push("per tool:");
  out.push(row(["tool", "calls", "completed", "failures", "recovered", "ERR", "cost"]));
  for (const [name, f] of Object.entries(snapshot.byTool)) {
    out.push(
      row([
        name,
        String(f.calls),
        String(f.completed),
        String(f.failures),
        String(f.recovered),
        pct(f.err),
        usd(f.costUsd),
      ]),
    );
  }
  out.push(...formatQuality(snapshot));
  const a = argusScores(argusCounts(t));
  out.push("");
  out.push(`ARGUS scoring (argus-llm formulas, for comparison): ASF ${a.asf}  ERR ${a.err}  CPCS ${a.cpcs}`);
  if (skippedCount > 0) {
    out.push("");
    out.push(`skipped ${skippedCount} unreadable line(s):`);
    for (const e of errors.slice(0, 20)) out.push(`  line ${e.line}: ${e.message}`);
  }
  return printable(out.join("\n"));
}

function frac(a: number, b: number): string {
  return b === 0 ? "0/0" : `${a}/${b}`;
}

function costNote(f: Figures): string {
  const t = f.totals;
  const notes: string[] = [];
  if (t.costUnknownCalls)
    notes.push(`${t.costUnknownCalls} model call(s) with unknown price not included: a lower bound`);
  if (t.estimatedUsageCalls) notes.push(`${t.estimatedUsageCalls} call(s) priced from estimated usage`);
  return notes.length ? ` (${notes.join("; ")})` : "";
}

function tripText(trips: Record<string, number>): string {
  const e = Object.entries(trips).filter(([, n]) => n > 0);
  return e.length ? e.map(([k, n]) => `${k} ${n}`).join(", ") : "0";
}

function row(cells: string[]): string {
  const widths = [24, 8, 10, 10, 10, 8, 12];
  return `  ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 12) : c.padStart(widths[i] ?? 12))).join(" ")}`;
}
