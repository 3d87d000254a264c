import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import type { TaskSummary } from "../metrics/summary.js";

/** A line of the store that could not be read; every other line still is. */
export interface StoreLineError {
  line: number;
  message: string;
}

export interface StoreRead {
  summaries: TaskSummary[];
  errors: StoreLineError[];
  /** Byte offset after the last complete line: pass it back to read only what was appended since. */
  offset: number;
  /** Lines read so far (for line numbers of later reads). */
  lines: number;
}

/**
 * Reads a run store from `offset`. A corrupt line is reported with its line number and skipped; a
 * last line without its newline (a writer that died mid-write, or one still writing) is reported as
 * truncated when `final`, and otherwise left for the next read.
 */
export function readStore(path: string, from: { offset?: number; lines?: number; final?: boolean } = {}): StoreRead {
  const fd = openSync(path, "r");
  try {
    const start = from.offset ?? 0;
    const size = fstatSync(fd).size;
    const buffer = Buffer.alloc(Math.max(0, size - start));
    let read = 0;
    while (read < buffer.length) {
      const n = readSync(fd, buffer, read, buffer.length - read, start + read);
      if (n === 0) break;
      read += n;
    }
    const summaries: TaskSummary[] = [];
    const errors: StoreLineError[] = [];
    let line = from.lines ?? 0;
    let pos = 0;
    while (pos < read) {
      const nl = buffer.indexOf(10, pos);
      if (nl === -1 || nl >= read) {
        // A writer still writing leaves its line for the next read; a final read reports it.
        if (from.final === false) break;
        line++;
        errors.push({ line, message: "truncated line (no newline): skipped" });
        pos = read;
        break;
      }
      line++;
      const text = buffer.toString("utf8", pos, nl);
      pos = nl + 1;
      if (text.trim() === "") continue;
      const parsed = parse(text);
      if (typeof parsed === "string") errors.push({ line, message: parsed });
      else summaries.push(parsed);
    }
    return { summaries, errors, offset: start + pos, lines: line };
  } finally {
    closeSync(fd);
  }
}

function parse(text: string): TaskSummary | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return `not JSON: ${(error as Error).message}`;
  }
  const s = value as Partial<TaskSummary> | null;
  if (typeof s !== "object" || s === null || Array.isArray(s)) return "not a task summary (expected an object)";
  if (s.v !== 1) return `unsupported summary version ${JSON.stringify(s.v)}`;
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
  if (!Array.isArray(s.steps)) return "field steps missing or not an array";
  return s as TaskSummary;
}
