import type { RecentRun } from "./quality/recent.js";
import { type ContentField, redactSecrets } from "./redact.js";
import { FileStore } from "./store/FileStore.js";
import type { EvalRecord } from "./store/records.js";

/** Default of `FeedbackInput.name`: the evaluation name feedback is counted under. */
export const DEFAULT_FEEDBACK_NAME = "user_feedback";

/**
 * A user's judgement of a finished task, given after the fact by run id or thread id (the thread's
 * latest run). At least one of `thumbs`, `score`, `correction`, `comment`.
 */
export interface FeedbackInput {
  /** The run (task) id: `run.id` in `onTaskEnd`, `id` in the store. */
  runId?: string;
  /** The thread (`configurable.thread_id`): the feedback is about its latest run. */
  threadId?: string;
  thumbs?: "up" | "down";
  /** A score from 0 to 1 (scale a rating to it). Thumbs alone count as 1 (up) or 0 (down). */
  score?: number;
  /** What the answer should have been. Redacted. */
  correction?: string;
  /** Redacted. */
  comment?: string;
  /** The evaluation name it is counted under. Default `user_feedback` (`DEFAULT_FEEDBACK_NAME`). */
  name?: string;
}

/** Validates feedback and builds its store record (`type: "feedback"`); `run` fills in what is known of the run. */
export function feedbackRecord(
  input: FeedbackInput,
  run: RecentRun | undefined,
  redact: (text: string, field: ContentField) => string,
): EvalRecord {
  if (typeof input !== "object" || input === null) throw new TypeError("agentwarden: feedback must be an object");
  const { runId, threadId, thumbs, score, correction, comment, name = DEFAULT_FEEDBACK_NAME } = input;
  if (runId !== undefined && (typeof runId !== "string" || runId === ""))
    throw new TypeError(`agentwarden: feedback runId must be a non-empty string, got ${JSON.stringify(runId)}`);
  if (threadId !== undefined && (typeof threadId !== "string" || threadId === ""))
    throw new TypeError(`agentwarden: feedback threadId must be a non-empty string, got ${JSON.stringify(threadId)}`);
  if (runId === undefined && threadId === undefined)
    throw new TypeError("agentwarden: feedback needs a runId or a threadId");
  if (thumbs !== undefined && thumbs !== "up" && thumbs !== "down")
    throw new TypeError(`agentwarden: feedback thumbs must be "up" or "down", got ${JSON.stringify(thumbs)}`);
  if (score !== undefined && (typeof score !== "number" || !Number.isFinite(score)))
    throw new TypeError(`agentwarden: feedback score must be a finite number, got ${JSON.stringify(score)}`);
  // On a scale of 0 to 1 (it passes at 0.5): a 7 out of 10 or 4 stars would pass and skew the mean.
  if (score !== undefined && (score < 0 || score > 1))
    throw new RangeError(`agentwarden: feedback score must be from 0 to 1 (scale a rating to it), got ${score}`);
  for (const [field, value] of [
    ["correction", correction],
    ["comment", comment],
  ] as const) {
    if (value !== undefined && typeof value !== "string")
      throw new TypeError(`agentwarden: feedback ${field} must be a string`);
  }
  if (typeof name !== "string" || name === "")
    throw new TypeError("agentwarden: feedback name must be a non-empty string");
  if (thumbs === undefined && score === undefined && correction === undefined && comment === undefined)
    throw new TypeError("agentwarden: feedback needs thumbs, a score, a correction or a comment");
  const r: EvalRecord = { v: 1, type: "feedback", name, time: Date.now() };
  const id = runId ?? run?.id;
  if (id !== undefined) r.run = id;
  const thread = threadId ?? run?.thread;
  if (thread !== undefined) r.thread = thread;
  if (run) {
    r.agent = run.agent;
    if (run.version !== undefined) r.version = run.version;
  }
  if (thumbs !== undefined) r.thumbs = thumbs;
  if (score !== undefined) r.score = score;
  if (thumbs !== undefined || score !== undefined) {
    // A verdict: thumbs say it; else a score of at least 0.5 passes.
    r.pass = thumbs !== undefined ? thumbs === "up" : (score as number) >= 0.5;
  }
  if (correction !== undefined) r.correction = redact(correction, "agentwarden.feedback.correction");
  if (comment !== undefined) r.comment = redact(comment, "agentwarden.feedback.comment");
  return r;
}

/**
 * Records feedback from another process (a web backend taking thumbs from users): appends a
 * `feedback` record to the run store at `storePath`, redacted with `redact` (default
 * `redactSecrets`). The run's agent and version are joined by run id (or the thread's latest
 * run) when the store is read.
 */
export function recordFeedback(
  storePath: string,
  input: FeedbackInput,
  redact: (text: string, field: ContentField) => string = redactSecrets,
): EvalRecord {
  const record = feedbackRecord(input, undefined, redact);
  const store = new FileStore(storePath);
  try {
    store.append(record);
  } finally {
    void store.shutdown();
  }
  return record;
}
