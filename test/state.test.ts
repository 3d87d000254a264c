import { describe, expect, it } from "vitest";
import { MemoryStateStore, type StateStore } from "../src/index.js";

describe("MemoryStateStore", () => {
  it("sums a rolling window over 60 buckets: an amount leaves the window one bucket after windowMs", () => {
    const s = new MemoryStateStore();
    // window 60 000 ms: buckets of 1 000 ms
    s.addToWindow("k", 1.5, 10_000, 60_000);
    s.addToWindow("k", 2, 10_400, 60_000); // same bucket [10 000, 11 000)
    s.addToWindow("k", 4, 30_000, 60_000);
    expect(s.windowSum("k", 60_000, 30_000)).toBe(7.5);
    // at 70 999 the oldest bucket [10 000, 11 000) still overlaps (70 999 − 60 000 = 10 999)
    expect(s.windowSum("k", 60_000, 70_999)).toBe(7.5);
    expect(s.windowSum("k", 60_000, 71_000)).toBe(4);
    expect(s.windowSum("other", 60_000, 71_000)).toBe(0);
  });

  it("keeps a value until its expiry, and a lock for one owner at a time until released or expired", () => {
    const s: StateStore = new MemoryStateStore();
    s.set("breaker:api", "open", 1_000, 500);
    expect([s.get("breaker:api", 1_499), s.get("breaker:api", 1_500)]).toEqual(["open", undefined]);
    expect(s.acquire("probe:api", "w1", 0, 100)).toBe(true);
    expect(s.acquire("probe:api", "w2", 50, 100)).toBe(false);
    expect(s.acquire("probe:api", "w1", 60, 100)).toBe(true); // its own lock, renewed to 160
    s.release("probe:api", "w2"); // not w2's: ignored
    expect(s.acquire("probe:api", "w2", 159, 100)).toBe(false);
    expect(s.acquire("probe:api", "w2", 160, 100)).toBe(true); // expired
    s.release("probe:api", "w2");
    expect(s.acquire("probe:api", "w1", 161, 100)).toBe(true);
  });

  it("drops the keys of callers gone quiet: 5,000 tasks' windows, rate limits, values and reservations, once run out", () => {
    const s = new MemoryStateStore();
    // One window, one rate limit, one value and one reservation per task, at t = 0 (what a shared
    // budget and a rate limit keyed by a caller-chosen thread or task id leave behind).
    for (let i = 0; i < 5_000; i++) {
      s.addToWindow(`w:${i}`, 1, 0, 50);
      expect(s.take(`r:${i}`, 1, 10, 1_000, 0).ok).toBe(true);
      s.set(`v:${i}`, "x", 0, 100);
      expect(s.reserve(`id${i}`, [{ key: `b:${i}`, limit: 10, windowMs: 50 }], 1, 0, 200).ok).toBe(true);
    }
    expect(s.size).toBe(20_000);
    // Later, one busy caller: every other key has run out (windows of 50 ms, a rate limit back to
    // full after 100 ms, values after 100 ms, reservations after 200 ms).
    let t = 1_000;
    for (; s.size > 1 && t < 1_000 + 40_000; t++) s.addToWindow("busy", 1, t, 50);
    expect(s.size).toBe(1);
    // What is still in use is kept, its figures unchanged by the sweeps: one unit a millisecond, and
    // the window at the last write counts the 51 writes from 50 ms before it (buckets of 50/60 ms).
    const last = t - 1;
    expect(last - 1_000).toBeGreaterThan(50);
    expect(s.windowSum("busy", 50, last)).toBe(51);
  });

  it("stays bounded when every write names a new key (a per-thread limit, each thread asking once)", () => {
    const s = new MemoryStateStore();
    let most = 0;
    // One new key a millisecond, each with a 50 ms window: about 51 are live at any time.
    for (let t = 0; t < 20_000; t++) {
      s.addToWindow(`thread:${t}`, 1, t, 50);
      most = Math.max(most, s.size);
    }
    // A sweep every 1,024 writes (the keys a sweep keeps, ~51, are fewer): never more than 1,024 +
    // the ~51 live at the sweep before.
    expect(most).toBeLessThanOrEqual(1_024 + 52);
    s.sweep(20_000);
    expect(s.size).toBe(50); // windows of t = 19,950..19,999 still end after 20,000 − 50
  });
});
