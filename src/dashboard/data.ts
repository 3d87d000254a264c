import { closeSync, openSync, readSync } from "node:fs";
import { stat } from "node:fs/promises";
import type { TaskSummary } from "../metrics/summary.js";
import { parseRecordLine, parseStoreLine, type StoreLineError } from "../store/readStore.js";
import type { EvalRecord } from "../store/records.js";
import { scanStore } from "../store/scanStore.js";
import { type Aggregates, aggregate, DEFAULT_PAGE_SIZE, type ErrorGroup, type RunQuery } from "./query.js";
import { errorPlace, RunIndex } from "./RunIndex.js";

export type { RunQuery, ScoreRow, TrendPoint, VersionRow } from "./query.js";

/** A run as its panel shows it: its summary and its evaluation records (online evals, feedback). */
export type RunView = TaskSummary & { evalRecords: EvalRecord[] };

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
  tripKinds: string[];
  thread?: string;
  version?: string;
  input?: string;
  answer?: string;
  error?: string;
}

/** A breaker trip, for the trips log. */
export interface TripRow {
  id: string;
  start: number;
  agent: string;
  kinds: string[];
  reason: string;
}

/** What `/api/data` answers: the aggregates of the runs selected (see `Aggregates`), a page of them, and the store's state. */
export interface DashboardData extends Omit<Aggregates, "errorGroups" | "matches" | "trips"> {
  store: string;
  readAt: number;
  /** Why there is nothing to show, when there is no store at the path yet. */
  storeError?: string;
  /** Set while the store is still being read: the figures cover the runs read so far. */
  reading?: { bytes: number; size: number };
  errorGroups: Array<Omit<ErrorGroup, "sample"> & { sample: string; message: string }>;
  /** Evaluation records in the store joined to a run, and those whose run was not found. */
  storeRecords: number;
  unjoinedRecords: number;
  trips: TripRow[];
  /** Runs selected, newest first: `runCount` in all, this page of them in `runs`. */
  runCount: number;
  page: number;
  pageSize: number;
  runs: RunRow[];
  /** Values each filter can take (of every run in the store). */
  facets: Record<"agent" | "version" | "tool" | "model" | "error" | "trip" | "guard", string[]>;
  /** Runs in the store. */
  storeRuns: number;
  /** The last 50 unreadable lines. */
  skipped: StoreLineError[];
  /** Every unreadable line so far. */
  skippedCount: number;
}

const MAX_SKIPPED = 50;

export interface StoreFollowerOptions {
  /**
   * Awaited between chunks of a read. Default: yield to the event loop, so the dashboard answers
   * other requests while it reads a large store.
   */
  pause?: () => Promise<void>;
  /**
   * How long a request for data waits for a read under way before it answers with the runs read so
   * far (marked `reading`). Default 300 ms.
   */
  waitMs?: number;
}

/**
 * Follows a run store as an application appends to it: each `refresh()` streams only the new
 * complete lines into a compact index (`RunIndex`: a few numbers a run and its byte offset), so
 * memory grows by a few hundred bytes a run, not by the runs' size. Every query aggregates over the
 * index; the runs shown are read again from their lines. Concurrent refreshes share one read.
 */
export class StoreFollower {
  private offset = 0;
  private lines = 0;
  private size = -1;
  private missing = false;
  private index = new RunIndex();
  private readonly skipped = new Last<StoreLineError>(MAX_SKIPPED);
  private skippedCount = 0;
  private reading: Promise<void> | undefined;
  private progress = { bytes: 0, size: 0 };
  private generation = 0;
  private cache: { key: string; data: DashboardData } | undefined;

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

  /** Runs indexed so far. */
  get runs(): number {
    return this.index.n;
  }

  /** One run's whole summary, read again from its line. */
  async run(id: string): Promise<TaskSummary | undefined> {
    await this.refresh();
    const i = this.index.find(id);
    if (i < 0) return undefined;
    const s = this.summaries([i], (summary) => summary)[0];
    return s?.id === id ? s : undefined;
  }

  /** One run's whole summary and its evaluation records, read again from their lines. */
  async runView(id: string): Promise<RunView | undefined> {
    await this.refresh();
    const i = this.index.find(id);
    if (i < 0) return undefined;
    const s = this.summaries([i], (summary) => summary)[0];
    if (s?.id !== id) return undefined;
    return { ...s, evalRecords: this.records(this.index.records.of(i)) };
  }

  async data(query: RunQuery = {}): Promise<DashboardData> {
    const read = this.refresh();
    const waitMs = this.options.waitMs ?? 300;
    const done = await Promise.race([
      read.then(() => true),
      new Promise<false>((resolve) => setTimeout(resolve, waitMs, false).unref()),
    ]);
    // Asked again with nothing new read (the page refreshes every 2 s): the same answer.
    const key = `${JSON.stringify(query)}|${this.generation}|${this.index.n}|${this.index.records.n}|${this.index.unjoinedRecords}|${this.skippedCount}|${this.missing}`;
    if (done && this.cache?.key === key) return { ...this.cache.data, readAt: Date.now() };
    const a = aggregate(this.index, query);
    const pageSize = query.pageSize ?? DEFAULT_PAGE_SIZE;
    const pages = Math.max(1, Math.ceil(a.matches.length / pageSize));
    const page = Math.min(query.page ?? 0, pages - 1);
    const shown = Array.from(a.matches.subarray(page * pageSize, (page + 1) * pageSize));
    const x = this.index;
    const samples = this.summaries(
      a.errorGroups.map((g) => g.sample),
      (s, k) => ({ id: s?.id ?? "", message: sampleMessage(s, a.errorGroups[k] as ErrorGroup) }),
    );
    const data: DashboardData = {
      store: this.path,
      readAt: Date.now(),
      range: a.range,
      cumulative: a.cumulative,
      trend: a.trend,
      trendBucketMs: a.trendBucketMs,
      byAgent: a.byAgent,
      byVersion: a.byVersion,
      byTool: a.byTool,
      errorGroups: a.errorGroups.map((g, k) => ({
        ...g,
        sample: samples[k]?.id ?? "",
        message: samples[k]?.message ?? "",
      })),
      evals: a.evals,
      scores: a.scores,
      evalCost: a.evalCost,
      storeRecords: x.records.n,
      unjoinedRecords: x.unjoinedRecords,
      trips: this.summaries(a.trips, tripRow),
      runCount: a.matches.length,
      page,
      pageSize,
      runs: this.summaries(shown, row),
      facets: {
        agent: sorted(x.agents.names),
        version: sorted(x.versions.names),
        tool: sorted(x.tools.names),
        model: sorted(x.models.names),
        error: sorted(x.errorTypes.names),
        trip: sorted(x.tripKinds.names),
        guard: sorted(x.guards.names),
      },
      storeRuns: x.n,
      skipped: this.skipped.list(),
      skippedCount: this.skippedCount,
    };
    if (!done) data.reading = { ...this.progress };
    if (this.missing) data.storeError = `no store at ${this.path} yet: waiting for the application to write it`;
    this.cache = done ? { key, data } : undefined;
    return data;
  }

  /**
   * What `view` makes of the summaries of the runs at these index positions, read from their lines
   * one at a time: a page holds one summary at a time (a line can be tens of megabytes), never the
   * whole page's.
   */
  private summaries<R>(at: number[], view: (s: TaskSummary | undefined, k: number) => R): R[] {
    const x = this.index;
    return this.readLines(at, x.offset.a, x.length.a, (text, k) => {
      const parsed = text === undefined ? text : parseStoreLine(text);
      return view(typeof parsed === "string" ? undefined : parsed, k);
    });
  }

  /** The evaluation records at these positions of the record table, read from their lines. */
  private records(at: number[]): EvalRecord[] {
    const r = this.index.records;
    return this.readLines(at, r.offset.a, r.length.a, (text) =>
      text === undefined ? undefined : parseRecordLine(text),
    ).filter((record): record is EvalRecord => record !== undefined);
  }

  /** The store's lines at these positions of an offset and a length column. */
  private readLines<R>(
    at: number[],
    offsets: Float64Array,
    lengths: Uint32Array,
    each: (text: string | undefined, k: number) => R,
  ): R[] {
    if (at.length === 0) return [];
    let fd: number;
    try {
      fd = openSync(this.path, "r");
    } catch {
      return at.map((_, k) => each(undefined, k));
    }
    try {
      return at.map((i, k) => {
        const length = lengths[i] as number;
        const buffer = Buffer.allocUnsafe(length);
        const n = readSync(fd, buffer, 0, length, offsets[i] as number);
        return each(buffer.subarray(0, n).toString("utf8"), k);
      });
    } finally {
      closeSync(fd);
    }
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
    this.progress = { bytes: this.offset, size };
    const pause = this.options.pause;
    const from = this.offset;
    let added = 0;
    try {
      const read = await scanStore(
        this.path,
        {
          summary: (s, offset, length) => {
            this.index.add(s, offset, length);
            this.progress.bytes = offset + length;
            // Once 1,000 runs of this read are in, room for the rest at the size they take.
            if (++added === 1_000) {
              const per = (offset + length - from) / added;
              this.index.reserve(this.index.n + Math.ceil(((size - offset - length) / per) * 1.02));
            }
          },
          // Evaluation records: joined to their run (its offset and length kept, the line read again to show it).
          record: (r, offset, length) => {
            this.index.addRecord(r, offset, length);
            this.progress.bytes = offset + length;
          },
          error: (e) => this.skip(e),
        },
        { offset: this.offset, lines: this.lines, final: false, ...(pause ? { pause } : {}) },
      );
      this.offset = read.offset;
      this.lines = read.lines;
      this.size = read.offset;
    } catch (error) {
      this.reset(); // part of it was added: start over next time rather than count it twice
      throw readError(this.path, error);
    }
  }

  private skip(e: StoreLineError): void {
    this.skippedCount++;
    this.skipped.add(e);
  }

  private reset(): void {
    this.generation++;
    this.cache = undefined;
    this.offset = 0;
    this.lines = 0;
    this.size = -1;
    this.index = new RunIndex();
    this.skipped.clear();
    this.skippedCount = 0;
  }
}

function sorted(names: string[]): string[] {
  return [...names].sort();
}

function readError(path: string, error: unknown): Error {
  return new Error(`cannot read store ${path}: ${(error as Error).message}`, { cause: error });
}

function sampleMessage(s: TaskSummary | undefined, g: ErrorGroup): string {
  if (!s) return "";
  const step =
    g.where === "task" ? undefined : s.steps.find((st) => st.e?.type === g.type && errorPlace(st.k, st.n) === g.where);
  return (step?.e ?? s.error)?.message.slice(0, 300) ?? "";
}

const TRIP = /breaker[_ ]trip/i;

function tripRow(s: TaskSummary | undefined): TripRow {
  if (!s) return { id: "", start: 0, agent: "", kinds: [], reason: "" };
  const step = s.steps.find((st) => st.e && TRIP.test(st.e.type));
  const error = s.error && TRIP.test(s.error.type) ? s.error : step?.e;
  return {
    id: s.id,
    start: s.start,
    agent: s.agent,
    kinds: Object.keys(s.trips).filter((k) => (s.trips[k] ?? 0) > 0),
    reason: error ? tripReason(error.message) : "",
  };
}

/** A trip's reason without the prefixes the same trip carries on different steps. */
export function tripReason(message: string): string {
  return message.replace(/^agentwarden: /, "").replace(/^\w+ breaker tripped: /, "");
}

/** The last `size` items added, in a ring. */
class Last<T> {
  private items: T[] = [];
  private next = 0;

  constructor(private readonly size: number) {}

  add(item: T): void {
    if (this.items.length < this.size) {
      this.items.push(item);
      return;
    }
    this.items[this.next] = item;
    this.next = (this.next + 1) % this.size;
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

function row(s: TaskSummary | undefined): RunRow {
  if (!s) {
    return {
      id: "",
      agent: "",
      outcome: "failure",
      start: 0,
      durationMs: 0,
      costUsd: 0,
      costUnknownCalls: 0,
      failures: 0,
      recovered: 0,
      trips: 0,
      tripKinds: [],
      error: "this run's line could not be read again (the store changed)",
    };
  }
  const r: RunRow = {
    id: s.id,
    agent: s.agent,
    outcome: s.outcome,
    start: s.start,
    durationMs: s.durationMs,
    costUsd: s.costUsd,
    costUnknownCalls: s.costUnknownCalls,
    failures: s.failures.tool + s.failures.model + s.failures.eval,
    recovered: s.recovered.tool + s.recovered.model + s.recovered.eval,
    trips: Object.values(s.trips).reduce((a, b) => a + b, 0),
    tripKinds: Object.keys(s.trips).filter((k) => (s.trips[k] ?? 0) > 0),
  };
  if (s.conversationId !== undefined) r.thread = s.conversationId;
  const version = (s as { version?: unknown }).version;
  if (typeof version === "string") r.version = version;
  if (s.input !== undefined) r.input = s.input;
  if (s.answer !== undefined) r.answer = s.answer;
  if (s.error) r.error = `${s.error.type}: ${s.error.message}`;
  return r;
}
