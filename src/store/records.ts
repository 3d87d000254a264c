/**
 * Evaluation results written to the run store after a task's own line: an online evaluator's
 * verdict (`type: "eval"`) or a user's judgement (`type: "feedback"`). Both name the run they are
 * about (or, for feedback, the thread), and are evaluation results like any other: a name, a
 * pass/fail and/or a score. Readers that do not know a `type` skip the line without an error.
 */
export interface EvalRecord {
  v: 1;
  type: "eval" | "feedback";
  /** The run (task) id the result is about. Feedback given by thread may have only `thread`. */
  run?: string;
  /** The thread (`configurable.thread_id`) the run belongs to, when known. */
  thread?: string;
  /** The run's agent and version, when the writer knew them (the reader otherwise joins by run id). */
  agent?: string;
  version?: string;
  /** The evaluator's name; `user_feedback` for feedback unless given. */
  name: string;
  pass?: boolean;
  /** Usually from 0 to 1 (a judge's rating; feedback thumbs up 1, down 0). */
  score?: number;
  /** The evaluator's reason (redacted). */
  reason?: string;
  /** Feedback: thumbs up or down, the user's correction and comment (redacted). */
  thumbs?: "up" | "down";
  correction?: string;
  comment?: string;
  /** Online evaluation: the priced cost of the judge's model calls, in USD. */
  costUsd?: number;
  /** Online evaluation: judge calls whose model has no price (cost unknown, not 0). */
  costUnknownCalls?: number;
  /** Epoch ms when the result was recorded. */
  time: number;
}

/** The record types the readers know; any other `type` is skipped. */
export const RECORD_TYPES: ReadonlySet<string> = new Set(["eval", "feedback"]);

/** `record` when it is a well-formed evaluation record, else why not. */
export function checkRecord(r: Record<string, unknown>): EvalRecord | string {
  if (typeof r.name !== "string" || r.name === "") return "record field name missing or not a string";
  if (r.run !== undefined && typeof r.run !== "string") return "record field run not a string";
  if (r.thread !== undefined && typeof r.thread !== "string") return "record field thread not a string";
  if (r.run === undefined && r.thread === undefined) return "record names neither a run nor a thread";
  for (const field of ["agent", "version", "reason", "correction", "comment"] as const) {
    if (r[field] !== undefined && typeof r[field] !== "string") return `record field ${field} not a string`;
  }
  if (r.pass !== undefined && typeof r.pass !== "boolean") return "record field pass not a boolean";
  for (const field of ["score", "costUsd", "costUnknownCalls", "time"] as const) {
    if (r[field] !== undefined && (typeof r[field] !== "number" || !Number.isFinite(r[field])))
      return `record field ${field} not a number`;
  }
  if (typeof r.time !== "number") return "record field time missing";
  if (r.thumbs !== undefined && r.thumbs !== "up" && r.thumbs !== "down") return "record field thumbs not up or down";
  return r as unknown as EvalRecord;
}
