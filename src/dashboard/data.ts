import { statSync } from "node:fs";
import { type MetricsSnapshot, MetricsSubscriber } from "../metrics/MetricsSubscriber.js";
import type { TaskSummary } from "../metrics/summary.js";
import { addTask, emptyTotals, figures, type Totals } from "../metrics/totals.js";
import { readStore, type StoreLineError } from "../store/readStore.js";

/** One row of the dashboard's run list. */
export interface RunRow {
  id: string;
  agent: string;
  outcome: string;
  start: number;
  durationMs: number;
  costUsd: number;
  costUnknownCalls: number;
  failures: number;
  recovered: number;
  trips: number;
  error?: string;
}

/** A point of the trend charts: the tasks that started in one time bucket. */
export interface TrendPoint {
  t: number;
  tasks: number;
  asf: number | null;
  err: number | null;
  cpcs: number | null;
}

export interface DashboardData {
  store: string;
  readAt: number;
  snapshot: MetricsSnapshot;
  trend: TrendPoint[];
  trendBucketMs: number;
  runs: RunRow[];
  skipped: StoreLineError[];
}

const MAX_RUNS = 500;

/**
 * Follows a run store as an application appends to it: each `refresh()` reads only the new
 * complete lines and adds them to the same aggregates the report uses.
 */
export class StoreFollower {
  private offset = 0;
  private lines = 0;
  private size = -1;
  private metrics = new MetricsSubscriber({
    windowTasks: 100,
    windowSeconds: 300,
    maxKeys: 10_000,
    meterProvider: undefined,
  });
  private readonly summaries: TaskSummary[] = [];
  private readonly byId = new Map<string, TaskSummary>();
  private readonly skipped: StoreLineError[] = [];

  constructor(readonly path: string) {}

  refresh(): void {
    let size: number;
    try {
      size = statSync(this.path).size;
    } catch {
      return; // not written yet
    }
    if (size === this.size) return;
    if (size < this.size) this.reset(); // truncated or replaced: start over
    const read = readStore(this.path, { offset: this.offset, lines: this.lines, final: false });
    this.offset = read.offset;
    this.lines = read.lines;
    this.size = read.offset;
    this.skipped.push(...read.errors);
    for (const s of read.summaries) {
      this.metrics.add(s);
      this.summaries.push(s);
      this.byId.set(s.id, s);
      if (this.summaries.length > 20 * MAX_RUNS) {
        const dropped = this.summaries.splice(0, this.summaries.length - 10 * MAX_RUNS);
        for (const d of dropped) this.byId.delete(d.id);
      }
    }
  }

  run(id: string): TaskSummary | undefined {
    this.refresh();
    return this.byId.get(id);
  }

  data(): DashboardData {
    this.refresh();
    const recent = this.summaries.slice(-MAX_RUNS).reverse();
    const { trend, bucketMs } = trendOf(this.summaries);
    return {
      store: this.path,
      readAt: Date.now(),
      snapshot: this.metrics.snapshot(),
      trend,
      trendBucketMs: bucketMs,
      runs: recent.map(row),
      skipped: this.skipped.slice(-50),
    };
  }

  private reset(): void {
    this.offset = 0;
    this.lines = 0;
    this.size = -1;
    this.metrics = new MetricsSubscriber({
      windowTasks: 100,
      windowSeconds: 300,
      maxKeys: 10_000,
      meterProvider: undefined,
    });
    this.summaries.length = 0;
    this.byId.clear();
  }
}

function row(s: TaskSummary): RunRow {
  const failures = s.failures.tool + s.failures.model + s.failures.eval;
  const recovered = s.recovered.tool + s.recovered.model + s.recovered.eval;
  const r: RunRow = {
    id: s.id,
    agent: s.agent,
    outcome: s.outcome,
    start: s.start,
    durationMs: s.durationMs,
    costUsd: s.costUsd,
    costUnknownCalls: s.costUnknownCalls,
    failures,
    recovered,
    trips: Object.values(s.trips).reduce((a, b) => a + b, 0),
  };
  if (s.error) r.error = `${s.error.type}: ${s.error.message}`;
  return r;
}

/** Up to 60 buckets over the span of the store's tasks (at least one second each). */
function trendOf(summaries: readonly TaskSummary[]): { trend: TrendPoint[]; bucketMs: number } {
  if (summaries.length === 0) return { trend: [], bucketMs: 60_000 };
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  for (const s of summaries) {
    first = Math.min(first, s.start);
    last = Math.max(last, s.start);
  }
  const niceSteps = [1_000, 5_000, 15_000, 60_000, 300_000, 900_000, 3_600_000, 21_600_000, 86_400_000];
  const bucketMs = niceSteps.find((b) => (last - first) / b <= 60) ?? 86_400_000;
  const buckets = new Map<number, Totals>();
  for (const s of summaries) {
    const t = Math.floor(s.start / bucketMs) * bucketMs;
    let totals = buckets.get(t);
    if (!totals) {
      totals = emptyTotals();
      buckets.set(t, totals);
    }
    addTask(totals, s);
  }
  const trend = [...buckets.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([t, totals]) => {
      const f = figures(totals);
      return { t, tasks: totals.tasks, asf: f.asf, err: f.err, cpcs: f.cpcs };
    });
  return { trend, bucketMs };
}
