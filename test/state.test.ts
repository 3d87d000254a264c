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
});
