import { stat } from "node:fs/promises";
import { type MetricsSnapshot, MetricsSubscriber } from "../metrics/MetricsSubscriber.js";
import type { TaskSummary } from "../metrics/summary.js";
import type { StoreLineError } from "../store/readStore.js";
import { scanStore } from "../store/scanStore.js";
import { Trend, type TrendPoint } from "./trend.js";

export type { TrendPoint } from "./trend.js";

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

export interface DashboardData {
  store: string;
  readAt: number;
  /** Why there is nothing to show, when there is no store at the path yet. */
  storeError?: string;
  snapshot: MetricsSnapshot;
  trend: TrendPoint[];
  trendBucketMs: number;
  /** The newest runs, newest first (at most `MAX_DASHBOARD_RUNS`). */
  runs: RunRow[];
  /** The last 50 unreadable lines. */
  skipped: StoreLineError[];
  /** Every unreadable line so far. */
  skippedCount: number;
}

/** Runs listed, and kept for their steps: older runs are counted in the figures only. */
export const MAX_DASHBOARD_RUNS = 500;
const MAX_SKIPPED = 50;

export interface StoreFollowerOptions {
  /**
   * Awaited between chunks of a read. Default: yield to the event loop, so the dashboard answers
   * other requests while it reads a large store.
   */
  pause?: () => Promise<void>;
}

/**
 * Follows a run store as an application appends to it: each `refresh()` streams only the new
 * complete lines into the same aggregates the report uses, and keeps only what the dashboard shows
 * (the newest runs, the last unreadable lines, about 60 trend buckets), so memory does not grow with
 * the store. Concurrent refreshes share one read.
 */
export class StoreFollower {
  private offset = 0;
  private lines = 0;
  private size = -1;
  private missing = false;
  private metrics = newMetrics();
  private trend = new Trend();
  private readonly recent = new Last<TaskSummary>(MAX_DASHBOARD_RUNS);
  private readonly byId = new Map<string, TaskSummary>();
  private readonly skipped = new Last<StoreLineError>(MAX_SKIPPED);
  private skippedCount = 0;
  private reading: Promise<void> | undefined;

  constructor(
    readonly path: string,
    private readonly options: StoreFollowerOptions = {},
  ) {}

  /** Reads what was appended since the last refresh. Rejects when the store cannot be read. */
  refresh(): Promise<void> {
    this.reading ??= this.read().finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  async run(id: string): Promise<TaskSummary | undefined> {
    await this.refresh();
    return this.byId.get(id);
  }

  async data(): Promise<DashboardData> {
    await this.refresh();
    const { trend, bucketMs } = this.trend.points();
    const data: DashboardData = {
      store: this.path,
      readAt: Date.now(),
      snapshot: this.metrics.snapshot(),
      trend,
      trendBucketMs: bucketMs,
      runs: this.recent.list().reverse().map(row),
      skipped: this.skipped.list(),
      skippedCount: this.skippedCount,
    };
    if (this.missing) data.storeError = `no store at ${this.path} yet: waiting for the application to write it`;
    return data;
  }

  private async read(): Promise<void> {
    let size: number;
    try {
      size = (await stat(this.path)).size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw readError(this.path, error);
      if (this.size >= 0) this.reset(); // removed: what was read is gone
      this.missing = true;
      return;
    }
    this.missing = false;
    if (size === this.size) return;
    if (size < this.size) this.reset(); // truncated or replaced: start over
    try {
      const read = await scanStore(
        this.path,
        { summary: (s) => this.add(s), error: (e) => this.skip(e) },
        { offset: this.offset, lines: this.lines, final: false, pause: this.options.pause },
      );
      this.offset = read.offset;
      this.lines = read.lines;
      this.size = read.offset;
    } catch (error) {
      this.reset(); // part of it was added: start over next time rather than count it twice
      throw readError(this.path, error);
    }
  }

  private add(s: TaskSummary): void {
    this.metrics.add(s);
    this.trend.add(s);
    const dropped = this.recent.add(s);
    if (dropped && this.byId.get(dropped.id) === dropped) this.byId.delete(dropped.id);
    this.byId.set(s.id, s);
  }

  private skip(e: StoreLineError): void {
    this.skippedCount++;
    this.skipped.add(e);
  }

  private reset(): void {
    this.offset = 0;
    this.lines = 0;
    this.size = -1;
    this.metrics = newMetrics();
    this.trend = new Trend();
    this.recent.clear();
    this.byId.clear();
    this.skipped.clear();
    this.skippedCount = 0;
  }
}

function newMetrics(): MetricsSubscriber {
  return new MetricsSubscriber({ windowTasks: 100, windowSeconds: 300, maxKeys: 10_000, meterProvider: undefined });
}

function readError(path: string, error: unknown): Error {
  return new Error(`cannot read store ${path}: ${(error as Error).message}`, { cause: error });
}

/** The last `size` items added, in a ring. */
class Last<T> {
  private items: T[] = [];
  private next = 0;

  constructor(private readonly size: number) {}

  /** Adds `item`; returns the item it pushed out, if any. */
  add(item: T): T | undefined {
    if (this.items.length < this.size) {
      this.items.push(item);
      return undefined;
    }
    const dropped = this.items[this.next];
    this.items[this.next] = item;
    this.next = (this.next + 1) % this.size;
    return dropped;
  }

  /** Oldest first. */
  list(): T[] {
    return this.items.slice(this.next).concat(this.items.slice(0, this.next));
  }

  clear(): void {
    this.items = [];
    this.next = 0;
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
