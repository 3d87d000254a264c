/**
 * Where budgets shared across tasks keep what was spent. The in-memory default serves one process;
 * a store shared by many workers (Redis, a database) implements the same two methods.
 */
export interface BudgetStore {
  /** USD spent under `key` in the last `windowMs` before `now`. */
  spent(key: string, windowMs: number, now: number): number | Promise<number>;
  /** Records `usd` spent under `key` at `now`, for a budget whose window is `windowMs`. */
  add(key: string, usd: number, now: number, windowMs: number): void | Promise<void>;
}

/** A budget shared by the tasks that map to the same key, over a rolling window. */
export interface SharedBudget {
  /** Names the budget in trips (`tenant-daily`). */
  name: string;
  /**
   * The key tasks share: `"thread"` (the run's `thread_id`), `"tenant"` (`configurable.agentwarden.tenant`),
   * or a function of the task's context. Tasks without a key are not limited by this budget.
   */
  key: "thread" | "tenant" | ((ctx: BudgetContext) => string | undefined);
  maxCostUsd: number;
  windowMs: number;
}

export interface BudgetContext {
  agent: string;
  threadId?: string;
  tenant?: string;
}

const BUCKETS = 60;

/** In-memory store: per key, 60 time buckets per window; memory bounded by keys × buckets. */
export class MemoryBudgetStore implements BudgetStore {
  private readonly keys = new Map<string, Array<{ start: number; usd: number }>>();

  spent(key: string, windowMs: number, now: number): number {
    const buckets = this.keys.get(key);
    if (!buckets) return 0;
    const oldest = now - windowMs;
    let sum = 0;
    for (const b of buckets) if (b.start + windowMs / BUCKETS > oldest) sum += b.usd;
    return sum;
  }

  add(key: string, usd: number, now: number, windowMs: number): void {
    const width = windowMs / BUCKETS;
    const start = Math.floor(now / width) * width;
    let buckets = this.keys.get(key);
    if (!buckets) {
      buckets = [];
      this.keys.set(key, buckets);
    }
    const last = buckets[buckets.length - 1];
    if (last && last.start === start) last.usd += usd;
    else buckets.push({ start, usd });
    while (buckets.length > 0 && (buckets[0] as { start: number }).start < now - windowMs - width) buckets.shift();
  }
}

export function budgetKey(budget: SharedBudget, ctx: BudgetContext): string | undefined {
  if (budget.key === "thread") return ctx.threadId;
  if (budget.key === "tenant") return ctx.tenant;
  return budget.key(ctx);
}
