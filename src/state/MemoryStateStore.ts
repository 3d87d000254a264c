import type { StateStore } from "./StateStore.js";

/** Buckets per window of a rolling counter: memory bounded by keys × buckets. */
const BUCKETS = 60;

interface Entry {
  value: string;
  expires: number;
}

/** The in-process StateStore, the default: synchronous, one process's state. */
export class MemoryStateStore implements StateStore {
  private readonly windows = new Map<string, Array<{ start: number; amount: number }>>();
  private readonly values = new Map<string, Entry>();

  addToWindow(key: string, amount: number, now: number, windowMs: number): void {
    const width = windowMs / BUCKETS;
    const start = Math.floor(now / width) * width;
    let buckets = this.windows.get(key);
    if (!buckets) {
      buckets = [];
      this.windows.set(key, buckets);
    }
    const last = buckets[buckets.length - 1];
    if (last && last.start === start) last.amount += amount;
    else buckets.push({ start, amount });
    while (buckets.length > 0 && (buckets[0] as { start: number }).start < now - windowMs - width) buckets.shift();
  }

  windowSum(key: string, windowMs: number, now: number): number {
    const buckets = this.windows.get(key);
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
}
