import { isAgentWardenError } from "../errors.js";
import type { StateStore } from "../state/StateStore.js";
import {
  DEFAULT_HALF_OPEN_AFTER_MS,
  DEFAULT_TOOL_BREAKER_FAILURES,
  type ToolBreakerOptions,
  type ToolBreakerState,
} from "./ToolBreakers.js";
import { ToolBreakerOpenError } from "./trip.js";

/** How long an open breaker's mark is kept at most (it is cleared when a probe succeeds). */
const OPEN_KEEP_MS = 86_400_000;
let owners = 0;

/**
 * Per-tool circuit breakers kept in a StateStore, so that every worker on the store shares them:
 * failures are counted in a shared rolling window (`consecutiveFailures` within `rateWindowMs`); an
 * open breaker is seen by every worker; after `halfOpenAfterMs` exactly one worker probes (a lock
 * with expiry, `probeTimeoutMs`), and its result closes or reopens the breaker for all.
 */
export class SharedToolBreakers {
  private readonly seen = new Map<string, ToolBreakerState>();
  private readonly threshold: number;
  private readonly windowMs: number;
  private readonly halfOpenAfterMs: number;
  private readonly probeTtlMs: number;
  private readonly owner = `${process.pid}:${Math.random().toString(36).slice(2)}`;

  constructor(
    options: ToolBreakerOptions,
    readonly store: StateStore,
    private readonly isErrorResult: (result: unknown) => boolean,
    private readonly onStateChange?: (tool: string, state: ToolBreakerState) => void,
  ) {
    this.threshold = options.consecutiveFailures ?? DEFAULT_TOOL_BREAKER_FAILURES;
    this.windowMs = options.rateWindowMs ?? 30_000;
    this.halfOpenAfterMs = options.halfOpenAfterMs ?? DEFAULT_HALF_OPEN_AFTER_MS;
    this.probeTtlMs = options.probeTimeoutMs ?? 60_000;
  }

  /** The state this worker last saw for `tool`. */
  state(tool: string): ToolBreakerState {
    return this.seen.get(tool) ?? "closed";
  }

  private see(tool: string, state: ToolBreakerState): void {
    if ((this.seen.get(tool) ?? "closed") === state) return;
    this.seen.set(tool, state);
    this.onStateChange?.(tool, state);
  }

  async execute<T>(tool: string, call: () => Promise<T>): Promise<T> {
    const base = `breaker\u0000${tool}`;
    const openKey = `${base}\u0000opened`;
    const failuresKey = `${base}\u0000failures`;
    const now = Date.now();
    const opened = await this.store.get(openKey, now);
    if (opened !== undefined) {
      if (now < Number(opened) + this.halfOpenAfterMs) {
        this.see(tool, "open");
        throw new ToolBreakerOpenError(tool);
      }
      const owner = `${this.owner}:${++owners}`;
      this.see(tool, "half-open");
      if (!(await this.store.acquire(`${base}\u0000probe`, owner, now, this.probeTtlMs))) {
        throw new ToolBreakerOpenError(tool);
      }
      try {
        const outcome = await this.run(call);
        if (outcome.failed) {
          await this.store.set(openKey, String(Date.now()), Date.now(), OPEN_KEEP_MS);
          this.see(tool, "open");
        } else {
          await this.store.delete(failuresKey);
          await this.store.delete(openKey);
          this.see(tool, "closed");
        }
        return this.settle(outcome);
      } finally {
        await this.store.release(`${base}\u0000probe`, owner);
      }
    }
    this.see(tool, "closed");
    const outcome = await this.run(call);
    if (outcome.failed) {
      const at = Date.now();
      await this.store.addToWindow(failuresKey, 1, at, this.windowMs);
      if ((await this.store.windowSum(failuresKey, this.windowMs, at)) >= this.threshold) {
        await this.store.set(openKey, String(at), at, OPEN_KEEP_MS);
        this.see(tool, "open");
      }
    }
    return this.settle(outcome);
  }

  private async run<T>(
    call: () => Promise<T>,
  ): Promise<{ failed: boolean; value?: T; error?: unknown; threw: boolean }> {
    try {
      const value = await call();
      return { failed: this.isErrorResult(value), value, threw: false };
    } catch (error) {
      if (isAgentWardenError(error)) throw error;
      return { failed: true, error, threw: true };
    }
  }

  private settle<T>(outcome: { value?: T; error?: unknown; threw: boolean }): T {
    if (outcome.threw) throw outcome.error;
    return outcome.value as T;
  }
}
