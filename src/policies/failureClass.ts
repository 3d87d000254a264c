import { isAgentWardenError } from "../errors.js";
import { isBreakerTrip } from "./trip.js";

/**
 * How a failure should be treated. `transient`: worth retrying (timeouts, 429 and 5xx, connection
 * resets, MCP transport errors). `permanent`: retrying the same call cannot help (bad arguments,
 * schema violations, not found, permission denied). `control`: not a failure of the work at all
 * (breaker trips, interrupts, aborts): never retried, never "recovered".
 */
export type FailureClass = "transient" | "permanent" | "control";

const TRANSIENT_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);
const PERMANENT_STATUS = new Set([400, 401, 403, 404, 405, 409, 410, 413, 415, 422]);
const TRANSIENT_TEXT =
  /time[d\s-]*out|ETIMEDOUT|ESOCKETTIMEDOUT|ECONNRESET|ECONNREFUSED|ECONNABORTED|EPIPE|EAI_AGAIN|socket hang up|network error|temporarily unavailable|service unavailable|too many requests|rate limit|overloaded|connection (?:closed|reset|refused)|\b(?:429|500|502|503|504)\b/i;
const PERMANENT_TEXT =
  /did not match expected schema|invalid (?:argument|input|parameter)|validation|not found|no such file|ENOENT|EACCES|EPERM|permission denied|access denied|forbidden|unauthori[sz]ed|outside (?:the )?allowed|\b(?:400|401|403|404|422)\b/i;

/** Classifies an error thrown by a tool or model call (or the text of an error result). */
export function failureClass(error: unknown): FailureClass {
  if (isBreakerTrip(error)) return "control";
  if (isAgentWardenError(error)) return "permanent"; // e.g. an open tool breaker: failing fast, not to be retried
  const e = (typeof error === "object" && error !== null ? error : {}) as {
    name?: unknown;
    code?: unknown;
    status?: unknown;
    is_bubble_up?: unknown;
    response?: { status?: unknown };
    message?: unknown;
  };
  const name = typeof e.name === "string" ? e.name : "";
  if (e.is_bubble_up === true || name === "GraphInterrupt" || name === "NodeInterrupt" || name === "AbortError")
    return "control";
  if (name === "ToolInputParsingException" || name === "ZodError") return "permanent";
  if (name === "TimeoutError") return "transient";
  const status = Number(e.status ?? e.response?.status);
  if (TRANSIENT_STATUS.has(status)) return "transient";
  if (PERMANENT_STATUS.has(status)) return "permanent";
  // MCP JSON-RPC: -32001 request timeout, -32000 connection closed are transport failures.
  if (e.code === -32001 || e.code === -32000) return "transient";
  if (e.code === -32602) return "permanent"; // invalid params
  const text = typeof error === "string" ? error : typeof e.message === "string" ? e.message : String(e.code ?? "");
  if (TRANSIENT_TEXT.test(text)) return "transient";
  if (PERMANENT_TEXT.test(text)) return "permanent";
  return "permanent";
}
