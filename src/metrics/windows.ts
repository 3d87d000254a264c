import type { TaskSummary } from "./summary.js";
import { addTask, emptyTotals, mergeTotals, type Totals, totalsOf } from "./totals.js";

/** The totals of the last `size` tasks: a ring of their counts, O(1) per task. */
export class TaskWindow {
  private readonly ring: Array<Totals | undefined>;
  private next = 0;
  readonly totals: Totals = emptyTotals();

  constructor(readonly size: number) {
    this.ring = new Array(size);
  }

  add(summary: TaskSummary): void {
    const evicted = this.ring[this.next];
    if (evicted) mergeTotals(this.totals, evicted, -1);
    const added = totalsOf(summary);
    this.ring[this.next] = added;
    this.next = (this.next + 1) % this.size;
    mergeTotals(this.totals, added, 1);
  }
}

/**
 * The totals of the tasks that ended in the last `seconds`: `buckets` slots of equal width, each
 * holding the totals of its tasks. Memory is bounded by the bucket count, whatever the traffic.
 */
export class TimeWindow {
  private readonly slots: Array<{ start: number; totals: Totals } | undefined>;
  private readonly width: number;

  constructor(
    readonly seconds: number,
    readonly buckets = 60,
    private readonly clock: () => number = Date.now,
  ) {
    this.slots = new Array(buckets);
    this.width = (seconds * 1000) / buckets;
  }

  add(summary: TaskSummary, at = this.clock()): void {
    const start = Math.floor(at / this.width) * this.width;
    const i = Math.floor(at / this.width) % this.buckets;
    let slot = this.slots[i];
    if (!slot || slot.start !== start) {
      slot = { start, totals: emptyTotals() };
      this.slots[i] = slot;
    }
    addTask(slot.totals, summary, 1);
  }

  totals(now = this.clock()): Totals {
    const t = emptyTotals();
    const oldest = now - this.seconds * 1000;
    for (const slot of this.slots)
      if (slot && slot.start + this.width > oldest && slot.start <= now) mergeTotals(t, slot.totals);
    return t;
  }
}
