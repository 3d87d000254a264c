import { isAgentWardenError, type StepError, type StepStatus } from "../../src/index.js";

/** How an error thrown out of a step ends that step. */
export interface Outcome {
  status: Exclude<StepStatus, "running">;
  error?: StepError;
}

/**
 * Classifies an error thrown by a node, model or tool. LangGraph's bubble-up control flow
 * (`interrupt()`, `Command({ graph: PARENT })`) is not a failure: an interrupt pauses the task and a
 * parent command is a jump. Work stopped by an aborted signal is a cancellation. Anything else is an error.
 */
export function classify(error: unknown, signal?: AbortSignal): Outcome {
  const e = error as { name?: unknown; is_bubble_up?: unknown } | null | undefined;
  const name = typeof e?.name === "string" ? e.name : undefined;
  if (name === "GraphInterrupt" || name === "NodeInterrupt") return { status: "interrupted" };
  if (e?.is_bubble_up === true) return { status: "ok" };
  if (isAgentWardenError(error)) return { status: "error", error: { type: error.code, message: error.message } };
  // Once the run's signal has fired (the caller's AbortSignal, or the stream closed by its consumer),
  // whatever the work throws is the consequence of that cancellation.
  if (signal?.aborted) return { status: "cancelled" };
  return { status: "error", error: stepError(error) };
}

/** The observed error as kept on a step: its class or code, and its message. */
export function stepError(error: unknown): StepError {
  if (error instanceof Error) {
    // An error's name and message are the thrower's: a number, an object or a Symbol there must
    // not reach the ledger, where a type and a message are strings (spans, labels, the store).
    const name = (error as { name?: unknown }).name;
    const code = (error as { code?: unknown }).code;
    const ctor = (error as { constructor?: { name?: unknown } }).constructor?.name;
    const type =
      typeof name === "string" && name.length > 0 && name !== "Error"
        ? name
        : typeof code === "string" && code.length > 0
          ? code
          : typeof ctor === "string" && ctor.length > 0 && ctor !== "Object" && ctor !== "Error"
            ? ctor
            : typeof name === "string" && name.length > 0
              ? name
              : "_OTHER";
    const message = (error as { message?: unknown }).message;
    return { type, message: typeof message === "string" ? message : safeString(message) };
  }
  return { type: "_OTHER", message: typeof error === "string" ? error : safeString(error) };
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return "[unprintable error]";
  }
}
