import { MemoryStateStore } from "../state/MemoryStateStore.js";
import type { MaybePromise, StateStore } from "../state/StateStore.js";

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

/**
 * A BudgetStore over any StateStore: spending is a rolling-window counter per key. A store shared
 * by many processes is a StateStore (`new StateBudgetStore(sharedState)`).
 */
export class StateBudgetStore implements BudgetStore {
  constructor(readonly state: StateStore) {}

  spent(key: string, windowMs: number, now: number): MaybePromise<number> {
    return this.state.windowSum(key, windowMs, now);
  }

  add(key: string, usd: number, now: number, windowMs: number): MaybePromise<void> {
    return this.state.addToWindow(key, usd, now, windowMs);
  }
}

/** In-memory store (the default): per key, 60 time buckets per window; memory bounded by keys × buckets. */
export class MemoryBudgetStore extends StateBudgetStore {
  constructor() {
    super(new MemoryStateStore());
  }

  override spent(key: string, windowMs: number, now: number): number {
    return super.spent(key, windowMs, now) as number;
  }

  override add(key: string, usd: number, now: number, windowMs: number): void {
    super.add(key, usd, now, windowMs);
  }
}

export function budgetKey(budget: SharedBudget, ctx: BudgetContext): string | undefined {
  if (budget.key === "thread") return ctx.threadId;
  if (budget.key === "tenant") return ctx.tenant;
  return budget.key(ctx);
}
