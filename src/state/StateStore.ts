import { AgentWardenError, isAgentWardenError } from "../errors.js";

/** A value now, or later: the in-memory store answers synchronously, a shared one with a promise. */
export type MaybePromise<T> = T | Promise<T>;

/**
 * The state policies keep across tasks — shared budgets' spending today, per-tool breaker state and
 * rate limits next — behind one small interface. `MemoryStateStore` (the default) serves one
 * process and answers synchronously, so the hot path stays synchronous; a store shared by many
 * processes (Redis, a database) implements the same methods, each atomic on its own, and may
 * answer with promises. Keys are opaque strings chosen by the policies.
 */
export interface StateStore {
  /** Adds `amount` to the rolling-window counter `key` at `now`, for a window of `windowMs`. */
  addToWindow(key: string, amount: number, now: number, windowMs: number): MaybePromise<void>;
  /** The sum added to `key` in the last `windowMs` before `now`. */
  windowSum(key: string, windowMs: number, now: number): MaybePromise<number>;
  /** The value stored under `key`, undefined if none or expired. */
  get(key: string, now: number): MaybePromise<string | undefined>;
  /** Stores `value` under `key` until `now + ttlMs`. */
  set(key: string, value: string, now: number, ttlMs: number): MaybePromise<void>;
  /**
   * Takes the lock `key` for `owner` until `now + ttlMs` (a half-open breaker's one probe call):
   * true if it was free, expired, or already `owner`'s.
   */
  acquire(key: string, owner: string, now: number, ttlMs: number): MaybePromise<boolean>;
  /** Releases the lock `key` if `owner` holds it. */
  release(key: string, owner: string): MaybePromise<void>;
  /** Deletes the value (or window counter) `key`. */
  delete(key: string): MaybePromise<void>;
  /**
   * Reserves `amount` against every line at once, atomically: each line's window sum plus its live
   * reservations plus `amount` must stay within its limit, or nothing is reserved and the first line
   * that would cross is named. A reservation lives until settled or `now + ttlMs` (a worker that
   * dies leaves reservations that expire).
   */
  reserve(
    id: string,
    lines: readonly ReserveLine[],
    amount: number,
    now: number,
    ttlMs: number,
  ): MaybePromise<Reserved>;
  /** Ends reservation `id` on every line and adds `actual` to each line's window. */
  settle(id: string, lines: readonly ReserveLine[], actual: number, now: number): MaybePromise<void>;
  /**
   * A rate limit (GCRA): takes `cost` from `key`, which admits `limit` per `periodMs` with bursts of
   * up to `limit`. `retryAfterMs` is how long to wait before `cost` would be admitted.
   */
  take(key: string, cost: number, limit: number, periodMs: number, now: number): MaybePromise<Taken>;
}

/** One rolling-window budget a reservation is checked against. */
export interface ReserveLine {
  key: string;
  limit: number;
  windowMs: number;
}

/** A reservation's answer: made, or refused by line `index` with what it had spent and reserved. */
export type Reserved = ({ ok: true } | { ok: false; index: number; spent: number; reserved: number }) & {
  /** True when a shared store was unreachable and answered from its local fallback (failOpen). */
  local?: boolean;
};

/** A rate limit's answer; `at` is the time the store decided by (the Redis server's clock for Redis). */
export interface Taken {
  ok: boolean;
  retryAfterMs: number;
  at: number;
  /** True when a shared store was unreachable and answered from its local fallback (failOpen). */
  local?: boolean;
}

/** A shared store that cannot be reached, under `failClosed`: the decision is refused, saying why. */
export class StateUnavailableError extends AgentWardenError<{ operation: string; reason: string }> {
  constructor(operation: string, reason: string, options?: { cause?: unknown }) {
    super(
      STATE_UNAVAILABLE,
      `agentwarden: the shared state store is unreachable (${operation}: ${reason}); failClosed refuses the call`,
      { operation, reason },
      options,
    );
    this.name = "StateUnavailableError";
  }
}

export const STATE_UNAVAILABLE = "STATE_UNAVAILABLE";

export function isStateUnavailable(error: unknown): error is StateUnavailableError {
  return isAgentWardenError(error) && error.code === STATE_UNAVAILABLE;
}
