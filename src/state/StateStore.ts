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
}
