import type { TaskSummary } from "../metrics/summary.js";
import { passOf, scoreOf } from "../quality/scores.js";
import type { TaskOutcome } from "../run/run.js";
import type { EvalRecord } from "../store/records.js";

export const OUTCOMES: readonly TaskOutcome[] = ["success", "failure", "interrupted", "cancelled"];

/** Strings seen in the store (agents, tools, error types, ...), each kept once and named by a number. */
export class Dictionary {
  readonly names: string[] = [];
  private readonly ids = new Map<string, number>();

  id(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.names.push(name);
      this.ids.set(name, id);
    }
    return id;
  }

  find(name: string): number | undefined {
    return this.ids.get(name);
  }
}

/** A growable column of numbers in a typed array. */
class Column<A extends Float64Array | Float32Array | Uint32Array | Uint16Array | Uint8Array> {
  constructor(
    public a: A,
    private readonly make: (n: number) => A,
  ) {}

  set(i: number, v: number): void {
    if (i >= this.a.length) this.reserve(Math.max(1024, Math.ceil(this.a.length * 1.5)));
    this.a[i] = v;
  }

  /** Makes room for `size` values (one copy, instead of growing step by step). */
  reserve(size: number): void {
    if (size <= this.a.length) return;
    const bigger = this.make(size);
    bigger.set(this.a);
    this.a = bigger;
  }
}

const f64 = () => new Column(new Float64Array(0), (n) => new Float64Array(n));
const f32 = () => new Column(new Float32Array(0), (n) => new Float32Array(n));
const u32 = () => new Column(new Uint32Array(0), (n) => new Uint32Array(n));
const u16 = () => new Column(new Uint16Array(0), (n) => new Uint16Array(n));
const u8 = () => new Column(new Uint8Array(0), (n) => new Uint8Array(n));

/** A list of items per run, flattened: run `i`'s items are `[start[i], start[i + 1])`. */
class Lists {
  readonly start = u32();
  readonly key = u32();
  length = 0;

  constructor(readonly extra: Record<string, Column<Float64Array | Float32Array | Uint32Array | Uint16Array>> = {}) {
    this.start.set(0, 0);
  }

  add(key: number, values: Record<string, number> = {}): void {
    this.key.set(this.length, key);
    for (const [name, column] of Object.entries(this.extra)) column.set(this.length, values[name] ?? 0);
    this.length++;
  }

  /** Closes run `i`'s list. */
  close(i: number): void {
    this.start.set(i + 1, this.length);
  }

  /** Makes room for `runs` runs, at the number of items a run has had so far. */
  reserve(runs: number, sofar: number): void {
    this.start.reserve(runs + 1);
    if (sofar === 0 || this.length === 0) return;
    const items = Math.ceil((this.length / sofar) * runs * 1.05);
    this.key.reserve(items);
    for (const column of Object.values(this.extra)) column.reserve(items);
  }
}

/**
 * The evaluation records (online evaluations, user feedback) joined to their runs, one row a record
 * in store order (a record is written after its run's line, often much later, so not a per-run
 * list): the run, the evaluator's name, its verdict, score and judge cost, and the byte offset and
 * length of its line, which is read again when its run is shown. About 40 bytes a record.
 */
export class RecordTable {
  n = 0;
  /** The record's run (an index of the RunIndex). */
  readonly run = u32();
  /** The evaluator's name (or `user_feedback`), a number of `names`. */
  readonly name = u32();
  /** 0: an online evaluation; 1: user feedback. */
  readonly kind = u8();
  /** 0: no verdict; 1: failed; 2: passed (feedback thumbs up passes, down fails). */
  readonly pass = u8();
  /** NaN: no score (feedback thumbs alone score 1 for up and 0 for down). */
  readonly score = f64();
  readonly cost = f64();
  readonly costUnknown = u16();
  readonly offset = f64();
  readonly length = u32();
  readonly names = new Dictionary();

  add(run: number, r: EvalRecord, offset: number, length: number): void {
    const i = this.n;
    const pass = passOf(r);
    this.run.set(i, run);
    this.name.set(i, this.names.id(r.name));
    this.kind.set(i, r.type === "feedback" ? 1 : 0);
    this.pass.set(i, pass === undefined ? 0 : pass ? 2 : 1);
    this.score.set(i, scoreOf(r) ?? Number.NaN);
    this.cost.set(i, r.costUsd ?? 0);
    this.costUnknown.set(i, cap16(r.costUnknownCalls ?? 0));
    this.offset.set(i, offset);
    this.length.set(i, length);
    this.n++;
  }

  /** The records of run `i`, as indexes of this table, in store order. */
  of(run: number): number[] {
    const out: number[] = [];
    const runs = this.run.a;
    for (let j = 0; j < this.n; j++) if (runs[j] === run) out.push(j);
    return out;
  }
}

/**
 * Runs and threads a record is joined by, most recent first out: records follow their run's line
 * (online evaluations within seconds, feedback later), so the last `RECENT_RUNS` runs and threads are
 * kept by id; an older run is looked up in the searchable text.
 */
const RECENT_RUNS = 10_000;
/** Records of older runs looked up in the searchable text, at most (each look-up reads all of it). */
const MAX_RECORD_SEARCHES = 1_000;

/** Where a failed step's error is grouped: its tool, model or evaluator; other steps not at all. */
export function errorPlace(kind: string, name: string): string | undefined {
  if (kind === "tool") return name;
  if (kind === "chat") return `model ${name}`;
  if (kind === "eval") return `eval ${name}`;
  return undefined;
}

/** Bytes of a chunk of searchable text. */
const TEXT_CHUNK = 4 << 20;
const MARK = "\u0001";
const NEWLINE = 10;
/** Characters of each text (input, error message) kept searchable. */
const MAX_SEARCH_TEXT = 160;

const cap16 = (n: number) => Math.min(Math.max(Math.round(n), 0), 0xffff);

/**
 * A compact, in-memory index of a run store, built while the store is streamed: per run a few
 * numbers in typed arrays (time, outcome, cost, counts, byte offset and length of its line), the
 * names it refers to as dictionary numbers, and its searchable text (run id, thread, input, error
 * messages, each cut to 160 characters) in 4 MB chunks. Memory is a few hundred bytes a run whatever
 * a run's size;
 * a run's full summary is read again from its line when it is shown.
 */
export class RunIndex {
  n = 0;
  /** True while runs were appended in order of start (the usual case): no sort is needed. */
  ordered = true;
  readonly agents = new Dictionary();
  readonly versions = new Dictionary();
  readonly tools = new Dictionary();
  readonly models = new Dictionary();
  readonly errorTypes = new Dictionary();
  readonly tripKinds = new Dictionary();
  readonly guards = new Dictionary();
  readonly evals = new Dictionary();
  readonly loopNames = new Dictionary();
  /** Where errors happened: a tool's name, `model NAME`, `eval NAME` or `task`. */
  readonly places = new Dictionary();

  readonly start = f64();
  readonly duration = f32();
  readonly cost = f64();
  readonly offset = f64();
  readonly length = u32();
  readonly outcome = u8();
  readonly agent = u32();
  /** Dictionary number + 1; 0: no version. */
  readonly version = u32();
  /** The task's error type, dictionary number + 1; 0: none. */
  readonly errorType = u32();
  readonly subtasks = u32();
  readonly completed = u32();
  readonly fTool = u16();
  readonly fModel = u16();
  readonly fEval = u16();
  readonly rTool = u16();
  readonly rModel = u16();
  readonly rEval = u16();
  readonly injected = u16();
  readonly costUnknown = u16();
  readonly estimated = u16();
  readonly retries = u16();
  readonly reservations = u16();
  readonly refusals = u16();
  readonly fallbacks = u16();
  readonly tokIn = f32();
  readonly tokOut = f32();

  /** Tools called: calls, failures, recoveries, fees and time of each. */
  readonly toolList = new Lists({ calls: u16(), failures: u16(), recovered: u16(), cost: f32(), ms: f32() });
  readonly modelList = new Lists();
  readonly tripList = new Lists({ count: u16() });
  /** Suspected loops (reported, not stopped), by the tool or node that repeated. */
  readonly loopList = new Lists({ count: u16() });
  readonly guardList = new Lists();
  /** Failed steps: key is the error type, `where` the place (see `places`). */
  readonly errorList = new Lists({ where: u32() });
  readonly evalList = new Lists({ pass: u16(), score: f32() });

  /** The searchable text of every run, lower case, one run after another, in chunks. */
  private readonly chunks: Buffer[] = [];
  private chunkUsed = 0;
  /** Where run `i`'s text starts: chunk × TEXT_CHUNK + offset in the chunk. */
  private readonly textStart = f64();
  private readonly textLength = u32();

  /** Evaluation records joined to their runs (see `addRecord`). */
  readonly records = new RecordTable();
  /** Records whose run is not in the index (or, by thread alone, not among the recent runs). */
  unjoinedRecords = 0;
  private recordSearches = 0;
  private readonly recentRuns = new Map<string, number>();
  private readonly recentThreads = new Map<string, number>();

  add(s: TaskSummary, offset: number, length: number): void {
    const i = this.n;
    if (i > 0 && s.start < (this.start.a[i - 1] as number)) this.ordered = false;
    this.start.set(i, s.start);
    this.duration.set(i, s.durationMs);
    this.cost.set(i, s.costUsd);
    this.offset.set(i, offset);
    this.length.set(i, length);
    this.outcome.set(i, OUTCOMES.indexOf(s.outcome));
    this.agent.set(i, this.agents.id(s.agent));
    const version = (s as { version?: unknown }).version;
    this.version.set(i, typeof version === "string" ? this.versions.id(version) + 1 : 0);
    this.errorType.set(i, s.error ? this.errorTypes.id(s.error.type) + 1 : 0);
    this.subtasks.set(i, s.subtasks);
    this.completed.set(i, s.completedSubtasks);
    this.fTool.set(i, cap16(s.failures.tool));
    this.fModel.set(i, cap16(s.failures.model));
    this.fEval.set(i, cap16(s.failures.eval));
    this.rTool.set(i, cap16(s.recovered.tool));
    this.rModel.set(i, cap16(s.recovered.model));
    this.rEval.set(i, cap16(s.recovered.eval));
    this.injected.set(i, cap16(s.recoveredInjected.tool + s.recoveredInjected.model + s.recoveredInjected.eval));
    this.costUnknown.set(i, cap16(s.costUnknownCalls));
    this.estimated.set(i, cap16(s.estimatedUsageCalls));
    this.retries.set(i, cap16(s.retries ?? 0));
    this.reservations.set(i, cap16(s.fleet?.reservations ?? 0));
    this.refusals.set(i, cap16(s.fleet?.refusals ?? 0));
    this.fallbacks.set(i, cap16(s.fleet?.fallbacks ?? 0));
    this.tokIn.set(i, s.tokens.input);
    this.tokOut.set(i, s.tokens.output);

    for (const [name, f] of Object.entries(s.tools)) {
      this.toolList.add(this.tools.id(name), {
        calls: cap16(f.calls),
        failures: cap16(f.failures),
        recovered: cap16(f.recovered),
        cost: f.costUsd,
        ms: f.durationMs,
      });
    }
    this.toolList.close(i);
    for (const name of Object.keys(s.models)) this.modelList.add(this.models.id(name));
    this.modelList.close(i);
    for (const [kind, count] of Object.entries(s.trips)) {
      if (count > 0) this.tripList.add(this.tripKinds.id(kind), { count: cap16(count) });
    }
    this.tripList.close(i);
    for (const [name, count] of Object.entries(s.suspectedLoops ?? {})) {
      if (count > 0) this.loopList.add(this.loopNames.id(name), { count: cap16(count) });
    }
    this.loopList.close(i);
    const guards = new Set<string>();
    for (const kind of Object.keys(s.trips)) if (kind.startsWith("guard")) guards.add(kind);
    const errors = new Set<string>();
    const types = new Set<string>();
    let texts = [s.id, s.conversationId ?? "", s.input ?? ""];
    if (s.error) texts.push(s.error.message);
    for (const step of s.steps) {
      // A guard that acted (blocked, redacted, escalated), by `point.action`: not one that let the step through.
      if (step.k === "guard" && step.gd?.d !== "continue") guards.add(step.n);
      const where = step.e && step.s === "error" ? errorPlace(step.k, step.n) : undefined;
      if (where !== undefined && step.e) {
        const key = `${step.e.type}\u0000${where}`;
        types.add(step.e.type);
        if (!errors.has(key)) {
          errors.add(key);
          this.errorList.add(this.errorTypes.id(step.e.type), { where: this.places.id(where) });
          if (errors.size <= 4) texts.push(step.e.message);
        }
      }
      if (step.k === "eval" && step.ev) {
        this.evalList.add(this.evals.id(step.n), {
          pass: step.ev.pass === undefined ? 0 : step.ev.pass ? 2 : 1,
          score: step.ev.score ?? Number.NaN,
        });
      }
    }
    // The task's own error, unless a step it ran failed with it (a tool's error, a trip on a call).
    if (s.error && !types.has(s.error.type)) {
      this.errorList.add(this.errorTypes.id(s.error.type), { where: this.places.id("task") });
    }
    this.errorList.close(i);
    this.evalList.close(i);
    for (const g of guards) this.guardList.add(this.guards.id(g));
    this.guardList.close(i);
    texts = texts.filter((t) => t !== "").map((t) => t.slice(0, MAX_SEARCH_TEXT));
    this.addText(i, texts.join("\n").toLowerCase().replaceAll(MARK, " "));
    recent(this.recentRuns, s.id, i);
    if (s.conversationId !== undefined) recent(this.recentThreads, s.conversationId, i);
    this.n++;
  }

  /**
   * Joins an evaluation record, read from the store at `offset` (`length` bytes), to its run: by run
   * id, or, for feedback given by thread, the thread's latest run read before it. False (and
   * counted in `unjoinedRecords`) when there is no such run.
   */
  addRecord(r: EvalRecord, offset: number, length: number): boolean {
    let run = -1;
    if (r.run !== undefined) {
      run = this.recentRuns.get(r.run) ?? -1;
      // An older run: a search of the text (a pass over it), so only the first so many.
      if (run < 0 && this.recordSearches < MAX_RECORD_SEARCHES) {
        this.recordSearches++;
        run = this.find(r.run);
      }
    } else if (r.thread !== undefined) run = this.recentThreads.get(r.thread) ?? -1;
    if (run < 0) {
      this.unjoinedRecords++;
      return false;
    }
    this.records.add(run, r, offset, length);
    return true;
  }

  /**
   * Makes room for `runs` runs at once (the store's size over the bytes a run has taken so far),
   * so that the columns are copied once, not grown step by step with spare room left over.
   */
  reserve(runs: number): void {
    if (runs <= this.n) return;
    for (const value of Object.values(this)) {
      if (value instanceof Column) value.reserve(runs);
      else if (value instanceof Lists) value.reserve(runs, this.n);
    }
  }

  /** The runs whose searchable text holds `query` (case-insensitive), as a bitmap by run. */
  search(query: string): Uint8Array {
    const hits = new Uint8Array(this.n);
    const needle = Buffer.from(
      query.toLowerCase().replaceAll("\u0000", "").replaceAll(MARK, "").replaceAll("\n", ""),
      "utf8",
    );
    if (needle.length === 0) return hits.fill(1);
    const starts = this.textStart.a;
    const lengths = this.textLength.a;
    let run = 0;
    this.chunks.forEach((chunk, c) => {
      const base = c * TEXT_CHUNK;
      for (let at = chunk.indexOf(needle); at !== -1; ) {
        const position = base + at;
        while (run + 1 < this.n && (starts[run + 1] as number) <= position) run++;
        hits[run] = 1;
        // Go on after this run's text: one hit per run is enough.
        const end = (starts[run] as number) + (lengths[run] as number) - base;
        at = end >= chunk.length ? -1 : chunk.indexOf(needle, Math.max(end, at + 1));
      }
    });
    return hits;
  }

  /** The run whose id is `id`, or -1. */
  find(id: string): number {
    const key = Buffer.from(`${MARK}${id.toLowerCase()}`, "utf8");
    const starts = this.textStart.a;
    const lengths = this.textLength.a;
    for (let c = 0; c < this.chunks.length; c++) {
      const chunk = this.chunks[c] as Buffer;
      for (let at = chunk.indexOf(key); at !== -1; at = chunk.indexOf(key, at + 1)) {
        const run = this.runAt(c * TEXT_CHUNK + at + 1);
        if ((starts[run] as number) !== c * TEXT_CHUNK + at + 1) continue;
        // The id is the run's first line: the whole text, or followed by a newline.
        const after = at + key.length;
        if (after - at - 1 === lengths[run] || chunk[after] === NEWLINE) return run;
      }
    }
    return -1;
  }

  private runAt(position: number): number {
    let lo = 0;
    let hi = this.n - 1;
    const starts = this.textStart.a;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] as number) <= position) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private addText(i: number, text: string): void {
    // Each run's text follows a mark, so an id is found only at the start of a run's text; a run's
    // text never spans two chunks.
    const bytes = Buffer.from(`${MARK}${text}`, "utf8").subarray(0, TEXT_CHUNK);
    let chunk = this.chunks[this.chunks.length - 1];
    if (!chunk || this.chunkUsed + bytes.length > TEXT_CHUNK) {
      if (chunk) this.chunks[this.chunks.length - 1] = chunk.subarray(0, this.chunkUsed);
      chunk = Buffer.alloc(TEXT_CHUNK);
      this.chunks.push(chunk);
      this.chunkUsed = 0;
    }
    bytes.copy(chunk, this.chunkUsed);
    this.textStart.set(i, (this.chunks.length - 1) * TEXT_CHUNK + this.chunkUsed + 1);
    this.textLength.set(i, bytes.length - 1);
    this.chunkUsed += bytes.length;
  }
}

/** Remembers `key` as run `i`, the newest; forgets the oldest past `RECENT_RUNS`. */
function recent(map: Map<string, number>, key: string, i: number): void {
  map.delete(key);
  map.set(key, i);
  if (map.size > RECENT_RUNS) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
}
