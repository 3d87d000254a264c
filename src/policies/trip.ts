import { AgentWardenError, isAgentWardenError } from "../errors.js";

/** What a breaker measures. */
export type TripKind =
  | "cost"
  | "tokens"
  | "steps"
  | "depth"
  | "time"
  | "tool_calls"
  | "tool_calls_per_tool"
  | "loop"
  | "shared_budget"
  | "rate_limit"
  | "state_unavailable";

/** One breaker trip: what was limited, the limit, what was observed, and by how much it overshot. */
export interface Trip {
  kind: TripKind;
  /** The configured limit (USD, tokens, steps, levels, ms, calls, repeats). */
  limit: number;
  /** The value that crossed it: for the predictive cost guard, spent + the refused call's estimate. */
  observed: number;
  /** How far the task actually went past the limit when it stopped (0 when the guard stopped it before). */
  overshoot: number;
  /** Human-readable, for the model (finalize) and for people. */
  reason: string;
  /** The tool or node concerned, when there is one. */
  subject?: string;
}

export interface BreakerTripData extends Trip {
  runId: string;
  /**
   * The task's cost in USD when it stopped. Model calls still running then (admitted before the
   * trip, in parallel branches) add theirs as they answer, even after the invoke has rejected.
   */
  spentUsd: number;
  /**
   * When model calls were running at the trip: the worst case (USD) those still running may yet
   * add to `spentUsd`; 0 once they have all ended.
   */
  inFlightUsd?: number;
  /** The last state the graph emitted before the trip (for `invoke`), so nothing is lost. */
  partialState?: unknown;
  /**
   * A trip inside nested graphs (a subgraph node, a wrapped graph invoked from a node or tool): the
   * state LangGraph last produced in each one still running, outermost first. Their work is not in
   * `partialState` yet (a nested graph hands its state on when it ends).
   */
  subgraphStates?: SubgraphState[];
}

/** The state of a nested graph when a trip stopped it (`BreakerTripData.subgraphStates`). */
export interface SubgraphState {
  /** The nested graph's name (as its step in the ledger). */
  graph: string;
  /** Its output channels as they stood. */
  state: unknown;
}

export const BREAKER_TRIP = "BREAKER_TRIP";

/**
 * Raised, on purpose, when a breaker stops a task in `abort` mode. Named `AbortError`-free and
 * delivered through the run's AbortSignal, so ToolNode cannot swallow it and a RetryPolicy does not
 * retry the step. `isBreakerTrip(error)` recognises it across copies of the package.
 */
export class BreakerTripError extends AgentWardenError<BreakerTripData> {
  constructor(data: BreakerTripData, options?: { cause?: unknown }) {
    super(BREAKER_TRIP, `agentwarden: ${data.kind} breaker tripped: ${data.reason}`, data, options);
    this.name = "BreakerTripError";
  }
}

export function isBreakerTrip(error: unknown): error is BreakerTripError {
  return isAgentWardenError(error) && error.code === BREAKER_TRIP;
}

export const TOOL_BREAKER_OPEN = "TOOL_BREAKER_OPEN";

/** A tool call refused because the tool's circuit breaker is open: the agent sees a tool error. */
export class ToolBreakerOpenError extends AgentWardenError<{ tool: string; retryAfterMs?: number }> {
  constructor(tool: string) {
    super(
      TOOL_BREAKER_OPEN,
      `Tool ${tool} is temporarily unavailable: it failed repeatedly and its circuit breaker is open. Do not call it again now; continue without it or try another tool.`,
      { tool },
    );
    this.name = "ToolBreakerOpenError";
  }
}
