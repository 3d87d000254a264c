import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import type { TaskSummary } from "../metrics/summary.js";
import { checkRecord, type EvalRecord, RECORD_TYPES } from "./records.js";

/** A line of the store that could not be read; every other line still is. */
export interface StoreLineError {
  line: number;
  message: string;
}

export interface StoreRead {
  summaries: TaskSummary[];
  errors: StoreLineError[];
  /** Evaluation records (online evals, user feedback), in store order. */
  records: EvalRecord[];
  /** Byte offset after the last complete line: pass it back to read only what was appended since. */
  offset: number;
  /** Lines read so far (for line numbers of later reads). */
  lines: number;
}

/** Where a read of the store starts, and whether it is the last (see `readStore`). */
export interface StoreFrom {
  offset?: number;
  lines?: number;
  final?: boolean;
}

/** What a reader does with each line of the store. */
export interface StoreVisitor {
  /** A summary read from the line at byte `offset`, `length` bytes long with its newline. */
  summary(summary: TaskSummary, offset: number, length: number): void;
  error(error: StoreLineError): void;
  /**
   * An evaluation record (online eval, user feedback), read from the line at byte `offset`, `length`
   * bytes long with its newline. A visitor without it skips them.
   */
  record?(record: EvalRecord, offset: number, length: number): void;
}

/** Bytes read at a time: memory is bounded by this (and the longest line), not by the file. */
export const STORE_CHUNK_BYTES = 1 << 20;
/** A line longer than this is skipped (and reported) without being held in memory. */
export const MAX_STORE_LINE_BYTES = 64 << 20;

/**
 * Splits a store's bytes, fed in chunks, into lines (a line may span chunks) and parses each as it
 * completes. Tracks the byte offset after the last complete line and the line count.
 */
export class StoreLineReader {
  offset: number;
  lines: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private oversized = false;

  constructor(
    private readonly visit: StoreVisitor,
    from: StoreFrom = {},
  ) {
    this.offset = from.offset ?? 0;
    this.lines = from.lines ?? 0;
  }

  /** Reads the complete lines of `chunk`, keeping a copy of its unfinished last line. */
  feed(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      const nl = chunk.indexOf(10, pos);
      if (nl === -1) {
        this.hold(chunk.subarray(pos));
        return;
      }
      const tail = chunk.subarray(pos, nl);
      const length = this.pendingBytes + tail.length + 1;
      this.lines++;
      if (this.oversized || length - 1 > MAX_STORE_LINE_BYTES) {
        this.visit.error({ line: this.lines, message: `line longer than ${MAX_STORE_LINE_BYTES} bytes: skipped` });
      } else {
        this.pending.push(tail);
        const text = (this.pending.length === 1 ? tail : Buffer.concat(this.pending)).toString("utf8");
        if (text.trim() !== "") {
          const parsed = parse(text);
          if (parsed === SKIP) {
            // a record of a type this reader does not know: not an error
          } else if (typeof parsed !== "string") this.deliver(parsed, length);
          else {
            const glued = afterFragment(text);
            if (glued) {
              this.visit.error({
                line: this.lines,
                message: "truncated line (no newline) followed by a whole summary: the fragment skipped",
              });
              this.deliver(glued, length);
            } else this.visit.error({ line: this.lines, message: parsed });
          }
        }
      }
      this.offset += length;
      this.pending = [];
      this.pendingBytes = 0;
      this.oversized = false;
      pos = nl + 1;
    }
  }

  /**
   * The end of what there is to read. A last line without its newline (a writer that died
   * mid-write, or one still writing) is reported as truncated when `final`, and otherwise left for
   * the next read (the offset stays before it).
   */
  end(final: boolean): void {
    if (this.pendingBytes === 0) return;
    if (final) {
      this.lines++;
      this.visit.error({ line: this.lines, message: "truncated line (no newline): skipped" });
      this.offset += this.pendingBytes;
    }
    this.pending = [];
    this.pendingBytes = 0;
    this.oversized = false;
  }

  private deliver(parsed: TaskSummary | RecordLine, length: number): void {
    // A reader that cannot take a line (a shape no check above foresaw) skips that line, never the store.
    try {
      if ("record" in parsed) this.visit.record?.(parsed.record, this.offset, length);
      else this.visit.summary(parsed, this.offset, length);
    } catch (error) {
      this.visit.error({ line: this.lines, message: `unreadable: ${(error as Error)?.message ?? String(error)}` });
    }
  }

  private hold(part: Buffer): void {
    this.pendingBytes += part.length;
    if (this.pendingBytes > MAX_STORE_LINE_BYTES) {
      this.oversized = true;
      this.pending = [];
    } else {
      this.pending.push(Buffer.from(part)); // a copy: the caller may reuse its chunk buffer
    }
  }
}

/**
 * Reads a run store from `offset`, whole, in chunks. A corrupt line is reported with its line
 * number and skipped; a last line without its newline is reported as truncated when `final`
 * (the default), and otherwise left for the next read. Holds every summary: for large stores use
 * `scanStore`, which streams.
 */
export function readStore(path: string, from: StoreFrom = {}): StoreRead {
  const summaries: TaskSummary[] = [];
  const errors: StoreLineError[] = [];
  const records: EvalRecord[] = [];
  const reader = new StoreLineReader(
    { summary: (s) => summaries.push(s), error: (e) => errors.push(e), record: (r) => records.push(r) },
    from,
  );
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const buffer = Buffer.allocUnsafe(STORE_CHUNK_BYTES);
    let position = from.offset ?? 0;
    while (position < size) {
      const n = readSync(fd, buffer, 0, Math.min(buffer.length, size - position), position);
      if (n === 0) break;
      reader.feed(buffer.subarray(0, n));
      position += n;
    }
  } finally {
    closeSync(fd);
  }
  reader.end(from.final !== false);
  return { summaries, errors, records, offset: reader.offset, lines: reader.lines };
}

/** The summary a store line holds (after a fragment, if need be), or why it holds none. */
export function parseStoreLine(text: string): TaskSummary | string {
  const parsed = parse(text);
  const summary = typeof parsed === "string" ? (afterFragment(text) ?? parsed) : parsed;
  return summary === SKIP || (typeof summary === "object" && "record" in summary) ? "not a task summary" : summary;
}

/** The evaluation record a store line holds (after a fragment, if need be), or undefined. */
export function parseRecordLine(text: string): EvalRecord | undefined {
  let parsed = parse(text);
  if (typeof parsed === "string") parsed = afterFragment(text) ?? parsed;
  return typeof parsed === "object" && "record" in parsed ? parsed.record : undefined;
}

/**
 * A whole summary appended after a fragment that had no newline (by a writer of an earlier version,
 * or one that could not see the fragment): a `{"v":1,` that starts a valid summary
 * running to the end of the line. Inside a JSON string a quote is escaped, so that text can only
 * be the start of an object.
 */
function afterFragment(text: string): TaskSummary | RecordLine | undefined {
  for (let at = text.lastIndexOf(SUMMARY_START); at > 0; at = text.lastIndexOf(SUMMARY_START, at - 1)) {
    const parsed = parse(text.slice(at));
    if (typeof parsed !== "string" && parsed !== SKIP) return parsed;
  }
  return undefined;
}

const SUMMARY_START = '{"v":1,';

/** A record line (`type` set), wrapped so it cannot be taken for a summary. */
interface RecordLine {
  record: EvalRecord;
}

/** A line to pass over silently: a record of a type this reader does not know. */
const SKIP = Symbol("skip");

function parse(text: string): TaskSummary | RecordLine | string | typeof SKIP {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return `not JSON: ${(error as Error).message}`;
  }
  const s = value as Partial<TaskSummary> | null;
  if (typeof s !== "object" || s === null || Array.isArray(s)) return "not a task summary (expected an object)";
  if (s.v !== 1) return `unsupported summary version ${JSON.stringify(s.v)}`;
  const type = (value as { type?: unknown }).type;
  if (type !== undefined) {
    if (typeof type !== "string" || !RECORD_TYPES.has(type)) return SKIP;
    const record = checkRecord(value as Record<string, unknown>);
    return typeof record === "string" ? record : { record };
  }
  for (const field of ["id", "agent", "outcome"] as const) {
    if (typeof s[field] !== "string") return `field ${field} missing or not a string`;
  }
  for (const field of ["start", "durationMs", "costUsd", "subtasks", "completedSubtasks"] as const) {
    if (typeof s[field] !== "number" || !Number.isFinite(s[field])) return `field ${field} missing or not a number`;
  }
  if (!["success", "failure", "interrupted", "cancelled"].includes(s.outcome as string)) {
    return `field outcome has an unknown value ${JSON.stringify(s.outcome)}`;
  }
  for (const field of [
    "failures",
    "recovered",
    "recoveredInjected",
    "tokens",
    "trips",
    "tools",
    "models",
    "nodes",
  ] as const) {
    if (typeof s[field] !== "object" || s[field] === null) return `field ${field} missing or not an object`;
  }
  if (s.suspectedLoops !== undefined && (typeof s.suspectedLoops !== "object" || s.suspectedLoops === null))
    return "field suspectedLoops not an object";
  if (
    s.fleet !== undefined &&
    (typeof s.fleet !== "object" ||
      s.fleet === null ||
      !["reservations", "refusals", "fallbacks"].every((k) => Number.isFinite((s.fleet as Record<string, unknown>)[k])))
  )
    return "field fleet not an object of counts";
  if (!Array.isArray(s.steps)) return "field steps missing or not an array";
  if (s.version !== undefined && typeof s.version !== "string") return "field version not a string";
  if (s.finishReasons !== undefined && (typeof s.finishReasons !== "object" || s.finishReasons === null))
    return "field finishReasons not an object";
  return checkNested(s as TaskSummary & Record<string, unknown>) ?? (s as TaskSummary);
}

const finite = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
/**
 * An error record `{ type, message }`: an object, its type and message made strings if a writer
 * (an older one, or a thrower's odd `name`) left something else there; not refused for that.
 */
function isError(v: unknown): boolean {
  if (!isObject(v)) return false;
  if (typeof v.type !== "string" || v.type.length === 0) v.type = "_OTHER";
  if (typeof v.message !== "string") v.message = v.message === undefined ? "" : String(v.message);
  return true;
}

/** Every value of `map` a finite number: a table of counts. */
function counts(map: unknown): boolean {
  return isObject(map) && Object.values(map).every(amount);
}

/**
 * A count, a cost or a duration: not negative, and exact as a double (at most 2^53 − 1), so that
 * no sum of them the report, the comparison or the dashboard makes turns into Infinity or NaN.
 */
const amount = (v: unknown): v is number => finite(v) && v >= 0 && v <= Number.MAX_SAFE_INTEGER;

/**
 * Each of `fields` of `o` an amount, an absent one filled in as 0 (a hand-written or older line
 * may leave out what it did not count); false when one is there but not an amount.
 */
function fill(o: Record<string, unknown>, fields: readonly string[]): boolean {
  for (const k of fields) {
    if (o[k] === undefined) o[k] = 0;
    else if (!amount(o[k])) return false;
  }
  return true;
}

/** Every value of `map` an object of the figures `fields` (see `fill`). */
function figures(map: unknown, fields: readonly string[], nested?: (v: Record<string, unknown>) => boolean): boolean {
  return isObject(map) && Object.values(map).every((f) => isObject(f) && fill(f, fields) && (nested?.(f) ?? true));
}

const KIND_FIELDS = ["tool", "model", "eval"] as const;
const TOOL_FIELDS = ["calls", "completed", "failures", "recovered", "costUsd", "durationMs"] as const;
const MODEL_FIELDS = ["calls", "failures", "recovered", "costUsd", "costUnknownCalls", "estimatedUsageCalls"] as const;
const NODE_FIELDS = ["runs", "failures", "durationMs"] as const;
const TOKEN_FIELDS = ["input", "output", "cacheRead", "cacheWrite"] as const;

/**
 * The fields below the top level, as the readers (report, compare, dashboard, metrics) use them:
 * a line written by this package always passes; a line someone edited or forged that would make a
 * reader throw (a string where a count is, a step that is not an object, an error without a
 * message) is refused with the field named, and skipped like any other corrupt line.
 */
function checkNested(s: TaskSummary & Record<string, unknown>): string | undefined {
  if (s.kind !== undefined && s.kind !== "agent" && s.kind !== "workflow")
    return "field kind is neither agent nor workflow";
  for (const field of ["conversationId", "input", "answer"] as const) {
    if (s[field] !== undefined && typeof s[field] !== "string") return `field ${field} not a string`;
  }
  for (const field of ["durationMs", "costUsd", "subtasks", "completedSubtasks"] as const) {
    if (!amount(s[field])) return `field ${field} negative or too large`;
  }
  if (s.completedSubtasks > s.subtasks) return "field completedSubtasks more than subtasks";
  for (const field of ["costUnknownCalls", "estimatedUsageCalls", "retries"] as const) {
    if (s[field] !== undefined && !amount(s[field])) return `field ${field} not a count`;
  }
  if (s.error !== undefined && !isError(s.error)) return "field error not an object";
  for (const field of ["failures", "recovered", "recoveredInjected"] as const) {
    if (!fill(s[field] as unknown as Record<string, unknown>, KIND_FIELDS))
      return `field ${field} not counts of tool, model and eval`;
  }
  for (const k of KIND_FIELDS) {
    // A recovered failure is a failure; a recovery agentwarden injected is a recovery.
    if (s.recovered[k] > s.failures[k] || s.recoveredInjected[k] > s.recovered[k])
      return `field recovered.${k} more than failures.${k} (or recoveredInjected more than recovered)`;
  }
  if (!fill(s.tokens as unknown as Record<string, unknown>, TOKEN_FIELDS)) return "field tokens not counts";
  for (const field of ["trips", "guards", "suspectedLoops", "finishReasons"] as const) {
    if (s[field] !== undefined && !counts(s[field])) return `field ${field} not a table of counts`;
  }
  if (!figures(s.tools, TOOL_FIELDS)) return "field tools not a table of tool figures";
  const modelTokens = (m: Record<string, unknown>) => {
    m.tokens ??= {};
    return isObject(m.tokens) && fill(m.tokens, TOKEN_FIELDS);
  };
  if (!figures(s.models, MODEL_FIELDS, modelTokens)) return "field models not a table of model figures";
  if (!figures(s.nodes, NODE_FIELDS)) return "field nodes not a table of node figures";
  for (let i = 0; i < s.steps.length; i++) {
    const why = checkStep(s.steps[i] as unknown, s.steps.length);
    if (why !== undefined) return `field steps[${i}] ${why}`;
  }
  return undefined;
}

function checkStep(step: unknown, count: number): string | undefined {
  if (!isObject(step)) return "not an object";
  if (!Number.isInteger(step.p) || (step.p as number) < -1 || (step.p as number) >= count) return "p not a step index";
  if (typeof step.k !== "string" || typeof step.n !== "string" || typeof step.s !== "string")
    return "k, n or s not a string";
  if (!amount(step.t) || !amount(step.d)) return "t or d not a time in ms";
  if (step.e !== undefined && !isError(step.e)) return "e not an object";
  if (step.tok !== undefined && !(Array.isArray(step.tok) && step.tok.length === 2 && step.tok.every(amount)))
    return "tok not two numbers";
  if (step.usd !== undefined && !amount(step.usd)) return "usd not an amount";
  for (const field of ["fb"] as const)
    if (step[field] !== undefined && typeof step[field] !== "string") return `${field} not a string`;
  if (step.rc !== undefined && !(isObject(step.rc) && typeof step.rc.a === "string" && typeof step.rc.to === "string"))
    return "rc not a recovery";
  if (step.ev !== undefined && !isObject(step.ev)) return "ev not an object";
  if (step.gd !== undefined && !(isObject(step.gd) && typeof step.gd.d === "string")) return "gd not a guard decision";
  return undefined;
}
