import type { TaskSummary } from "../metrics/summary.js";
import { addTask, emptyTotals, figures, mergeTotals, type Totals } from "../metrics/totals.js";

/** A point of the trend charts: the tasks that started in one time bucket. */
export interface TrendPoint {
  t: number;
  tasks: number;
  asf: number | null;
  err: number | null;
  cpcs: number | null;
}

/** Bucket sizes, each a multiple of the one before, so finer buckets merge into coarser ones. */
const STEPS = [1_000, 5_000, 15_000, 60_000, 300_000, 900_000, 3_600_000, 21_600_000, 86_400_000];
const MAX_BUCKETS = 60;

/**
 * The trend over every task added, built as they are read: up to 60 buckets over the span of the
 * tasks' starts (at least one second each, at most a day). When the span outgrows the bucket size,
 * buckets merge into the next size, so memory stays at about 60 buckets whatever the store's size
 * and the result equals bucketing all tasks at the end.
 */
export class Trend {
  private first = Number.POSITIVE_INFINITY;
  private last = Number.NEGATIVE_INFINITY;
  private step = 0;
  private buckets = new Map<number, Totals>();

  add(s: TaskSummary): void {
    this.first = Math.min(this.first, s.start);
    this.last = Math.max(this.last, s.start);
    while (this.step < STEPS.length - 1 && (this.last - this.first) / this.bucketMs > MAX_BUCKETS) this.coarsen();
    addTask(this.bucket(s.start), s);
  }

  get bucketMs(): number {
    return STEPS[this.step] as number;
  }

  points(): { trend: TrendPoint[]; bucketMs: number } {
    if (this.buckets.size === 0) return { trend: [], bucketMs: 60_000 };
    const trend = [...this.buckets.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([t, totals]) => {
        const f = figures(totals);
        return { t, tasks: totals.tasks, asf: f.asf, err: f.err, cpcs: f.cpcs };
      });
    return { trend, bucketMs: this.bucketMs };
  }

  private bucket(start: number): Totals {
    const t = Math.floor(start / this.bucketMs) * this.bucketMs;
    let totals = this.buckets.get(t);
    if (!totals) {
      totals = emptyTotals();
      this.buckets.set(t, totals);
    }
    return totals;
  }

  private coarsen(): void {
    const finer = this.buckets;
    this.step++;
    this.buckets = new Map();
    for (const [t, totals] of finer) mergeTotals(this.bucket(t), totals);
  }
}
