import type { Reserved, ReserveLine, StateStore, Taken } from "./StateStore.js";

/** Buckets per window of a rolling counter: memory bounded by keys × buckets. */
const BUCKETS = 60;

/** Writes between sweeps at the least (a sweep of a few keys every write would cost more than it saves). */
const SWEEP_MIN_WRITES = 1_024;

interface Entry {
  value: string;
  expires: number;
}

/**
 * The in-process StateStore, the default: synchronous, one process's state.
 *
 * Keys come from the agent's callers (a thread, a tenant, a task id), so a key whose window has
 * passed, whose value or lock expired, or whose rate limit is back to full is dropped: on its next
 * use, and by a sweep of every key once there have been as many writes since the last sweep as
 * that sweep kept keys (amortised: a constant per write). Memory is bounded by the keys in use within
 * their windows, not by every key ever seen.
 */
export class MemoryStateStore implements StateStore {
  private readonly windows = new Map<string, { windowMs: number; buckets: Array<{ start: number; amount: number }> }>();
  private readonly values = new Map<string, Entry>();
  private readonly reservations = new Map<string, Map<string, { amount: number; expires: number }>>();
  /** GCRA: each rate limit's theoretical arrival time. */
  private readonly arrivals = new Map<string, number>();

  /** Writes since the last sweep, and how many make the next one due (see `wrote`). */
  private writes = 0;
  private sweepAt = SWEEP_MIN_WRITES;

  /** Keys held, over windows, values and locks, reservations and rate limits (for monitoring and tests). */
  get size(): number {
    return this.windows.size + this.values.size + this.reservations.size + this.arrivals.size;
  }

  addToWindow(key: string, amount: number, now: number, windowMs: number): void {
    this.wrote(now);
    const width = windowMs / BUCKETS;
    const start = Math.floor(now / width) * width;
    let window = this.windows.get(key);
    if (!window) {
      window = { windowMs, buckets: [] };
      this.windows.set(key, window);
    }
    window.windowMs = Math.max(window.windowMs, windowMs);
    const buckets = window.buckets;
    const last = buckets[buckets.length - 1];
    if (last && last.start === start) last.amount += amount;
    else buckets.push({ start, amount });
    while (buckets.length > 0 && (buckets[0] as { start: number }).start < now - windowMs - width) buckets.shift();
  }

  windowSum(key: string, windowMs: number, now: number): number {
    const buckets = this.windows.get(key)?.buckets;
    if (!buckets) return 0;
    const oldest = now - windowMs;
    let sum = 0;
    for (const b of buckets) if (b.start + windowMs / BUCKETS > oldest) sum += b.amount;
    return sum;
  }

  get(key: string, now: number): string | undefined {
    const entry = this.values.get(key);
    if (!entry) return undefined;
    if (entry.expires <= now) {
      this.values.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: string, now: number, ttlMs: number): void {
    this.wrote(now);
    this.values.set(key, { value, expires: now + ttlMs });
  }

  acquire(key: string, owner: string, now: number, ttlMs: number): boolean {
    const holder = this.get(`lock\u0000${key}`, now);
    if (holder !== undefined && holder !== owner) return false;
    this.set(`lock\u0000${key}`, owner, now, ttlMs);
    return true;
  }

  release(key: string, owner: string): void {
    const lock = `lock\u0000${key}`;
    if (this.values.get(lock)?.value === owner) this.values.delete(lock);
  }

  delete(key: string): void {
    this.values.delete(key);
    this.windows.delete(key);
  }

  private reservedOn(key: string, now: number): number {
    const live = this.reservations.get(key);
    if (!live) return 0;
    let sum = 0;
    for (const [id, r] of live) {
      if (r.expires <= now) live.delete(id);
      else sum += r.amount;
    }
    if (live.size === 0) this.reservations.delete(key);
    return sum;
  }

  reserve(id: string, lines: readonly ReserveLine[], amount: number, now: number, ttlMs: number): Reserved {
    this.wrote(now);
    for (let index = 0; index < lines.length; index++) {
      const line = lines[index] as ReserveLine;
      const spent = this.windowSum(line.key, line.windowMs, now);
      const reserved = this.reservedOn(line.key, now);
      if (spent + reserved + amount > line.limit) return { ok: false, index, spent, reserved };
    }
    for (const line of lines) {
      let live = this.reservations.get(line.key);
      if (!live) {
        live = new Map();
        this.reservations.set(line.key, live);
      }
      live.set(id, { amount, expires: now + ttlMs });
    }
    return { ok: true };
  }

  settle(id: string, lines: readonly ReserveLine[], actual: number, now: number): void {
    for (const line of lines) {
      const live = this.reservations.get(line.key);
      live?.delete(id);
      if (live?.size === 0) this.reservations.delete(line.key);
      if (actual > 0) this.addToWindow(line.key, actual, now, line.windowMs);
    }
  }

  take(key: string, cost: number, limit: number, periodMs: number, now: number): Taken {
    this.wrote(now);
    const interval = periodMs / limit;
    const tat = Math.max(this.arrivals.get(key) ?? now, now) + cost * interval;
    const over = tat - now - periodMs;
    if (over > 0) return { ok: false, retryAfterMs: over, at: now };
    this.arrivals.set(key, tat);
    return { ok: true, retryAfterMs: 0, at: now };
  }

  /**
   * Counts a write; sweeps every key once the writes since the last sweep reach the keys the last
   * sweep kept (at least SWEEP_MIN_WRITES): a sweep costs the keys it walks, paid for by as many
   * writes. Measured against the keys kept then, not the keys held now: when every write names a
   * new key, the keys held grow with the writes and would never be caught up with.
   */
  private wrote(now: number): void {
    if (++this.writes < this.sweepAt) return;
    this.writes = 0;
    this.sweep(now);
    this.sweepAt = Math.max(SWEEP_MIN_WRITES, this.size);
  }

  /** Drops what has run out: windows wholly past, expired values and locks and reservations, full rate limits. */
  sweep(now: number): void {
    for (const [key, w] of this.windows) {
      const newest = w.buckets[w.buckets.length - 1];
      if (!newest || newest.start + w.windowMs / BUCKETS <= now - w.windowMs) this.windows.delete(key);
    }
    for (const [key, entry] of this.values) if (entry.expires <= now) this.values.delete(key);
    for (const key of [...this.reservations.keys()]) this.reservedOn(key, now);
    // A rate limit whose theoretical arrival time has passed is as if never used: `take` starts from `now`.
    for (const [key, tat] of this.arrivals) if (tat <= now) this.arrivals.delete(key);
  }
}
