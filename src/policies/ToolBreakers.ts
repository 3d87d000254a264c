import {
  BrokenCircuitError,
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhenResult,
  SamplingBreaker,
} from "cockatiel";
import { isAgentWardenError } from "../errors.js";
import { ToolBreakerOpenError } from "./trip.js";

export interface ToolBreakerOptions {
  /** Open after this many consecutive failures of a tool. Default 5 (`DEFAULT_TOOL_BREAKER_FAILURES`). */
  consecutiveFailures?: number;
  /** Or open when this share of a tool's calls failed over `rateWindowMs` (e.g. 0.5). Replaces `consecutiveFailures`. */
  failureRate?: number;
  /** The window of `failureRate`. Default 30 000 ms. */
  rateWindowMs?: number;
  /** Calls in the window before `failureRate` applies. Default 5. */
  minimumCalls?: number;
  /** After this long open, one call is let through (half-open); success closes the breaker. Default 30 000 ms. */
  halfOpenAfterMs?: number;
  /**
   * With a shared `state` store: how long the one worker probing a half-open breaker holds the probe
   * (a lock with expiry, so a worker that dies mid-probe does not keep it). Default 60 000 ms.
   */
  probeTimeoutMs?: number;
}

export const DEFAULT_TOOL_BREAKER_FAILURES = 5;
export const DEFAULT_HALF_OPEN_AFTER_MS = 30_000;

const FAILED = Symbol("agentwarden.toolFailed");
const PASSED = Symbol("agentwarden.toolPassed");

export type ToolBreakerState = "closed" | "open" | "half-open";

/**
 * One circuit breaker per tool, shared by every task of the Warden (cockatiel's state machine).
 * A failure is a thrown error or an error result; agentwarden's own errors (trips) are not.
 */
export class ToolBreakers {
  private readonly breakers = new Map<string, CircuitBreakerPolicy>();

  constructor(
    private readonly options: ToolBreakerOptions,
    private readonly isErrorResult: (result: unknown) => boolean,
    private readonly onStateChange?: (tool: string, state: ToolBreakerState) => void,
  ) {}

  /** Runs a tool call through its breaker; an open breaker refuses it with `ToolBreakerOpenError`. */
  async execute<T>(tool: string, call: () => Promise<T>): Promise<T> {
    const breaker = this.breaker(tool);
    // cockatiel keeps a breaker's last failure: given the tool's own error or result, it would hold
    // the task's whole ledger (through the error's stack frames) until the tool's next failure. It is
    // given a sentinel instead; the outcome stays here. agentwarden's own errors (trips) are thrown
    // through, neither successes nor failures of the tool.
    let outcome: { value: T } | { error: unknown } | undefined;
    try {
      await breaker.execute(async () => {
        try {
          const value = await call();
          outcome = { value };
          return this.isErrorResult(value) ? FAILED : PASSED;
        } catch (error) {
          if (isAgentWardenError(error)) throw error;
          outcome = { error };
          return FAILED;
        }
      });
    } catch (error) {
      if (error instanceof BrokenCircuitError) throw new ToolBreakerOpenError(tool);
      throw error;
    }
    if (outcome === undefined) throw new Error("agentwarden: tool breaker finished without an outcome");
    if ("error" in outcome) throw outcome.error;
    return outcome.value;
  }

  state(tool: string): ToolBreakerState {
    const b = this.breakers.get(tool);
    if (!b) return "closed";
    return b.state === CircuitState.Open || b.state === CircuitState.Isolated
      ? "open"
      : b.state === CircuitState.HalfOpen
        ? "half-open"
        : "closed";
  }

  private breaker(tool: string): CircuitBreakerPolicy {
    let b = this.breakers.get(tool);
    if (b) return b;
    const o = this.options;
    const policy = handleWhenResult((r) => r === FAILED);
    b = circuitBreaker(policy, {
      halfOpenAfter: o.halfOpenAfterMs ?? DEFAULT_HALF_OPEN_AFTER_MS,
      breaker:
        o.failureRate !== undefined
          ? new SamplingBreaker({
              threshold: o.failureRate,
              duration: o.rateWindowMs ?? 30_000,
              minimumRps: (o.minimumCalls ?? 5) / ((o.rateWindowMs ?? 30_000) / 1000),
            })
          : new ConsecutiveBreaker(o.consecutiveFailures ?? DEFAULT_TOOL_BREAKER_FAILURES),
    });
    if (this.onStateChange) {
      const notify = this.onStateChange;
      b.onBreak(() => notify(tool, "open"));
      b.onHalfOpen(() => notify(tool, "half-open"));
      b.onReset(() => notify(tool, "closed"));
    }
    this.breakers.set(tool, b);
    return b;
  }
}
