import { MemoryStateStore } from "../state/MemoryStateStore.js";
import type { MaybePromise, Reserved, ReserveLine, StateStore } from "../state/StateStore.js";

/**
 * Where budgets shared across tasks keep what was spent. The in-memory default serves one process;
 * a store shared by many workers (Redis, a database) implements the same two methods.
 */
export interface BudgetStore {
  /** USD spent under `key` in the last `windowMs` before `now`. */
  spent(key: string, windowMs: number, now: number): number | Promise<number>;
  /** Records `usd` spent under `key` at `now`, for a budget whose window is `windowMs`. */
  add(key: string, usd: number, now: number, windowMs: number): void | Promise<void>;
  /**
   * Optional, and what makes a budget hold under concurrency: reserves a call's worst case against
   * every line at once (atomically), to be settled to the actual cost. Without it the guard checks
   * `spent()` and records with `add()` after the call.
   */
  reserve?(id: string, lines: readonly ReserveLine[], usd: number, now: number, ttlMs: number): MaybePromise<Reserved>;
  /** Ends reservation `id` and records `usd` actually spent on every line. */
  settle?(id: string, lines: readonly ReserveLine[], usd: number, now: number): MaybePromise<void>;
}

/** A budget shared by the tasks that map to the same key, over a rolling window. */
export interface SharedBudget {
  /** Names the budget in trips (`tenant-daily`). */
  name: string;
  /**
   * The key tasks share: `"task"` (each task alone), `"thread"` (the run's `thread_id`), `"tenant"` (`configurable.agentwarden.tenant`),
   * or a function of the task's context. Tasks without a key are not limited by this budget.
   */
  key: "task" | "thread" | "tenant" | ((ctx: BudgetContext) => string | undefined);
  maxCostUsd: number;
  windowMs: number;
}

export interface BudgetContext {
  agent: string;
  /** The task's run id (filled in by the guard). */
  task?: string;
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

  reserve(id: string, lines: readonly ReserveLine[], usd: number, now: number, ttlMs: number): MaybePromise<Reserved> {
    return this.state.reserve(id, lines, usd, now, ttlMs);
  }

  settle(id: string, lines: readonly ReserveLine[], usd: number, now: number): MaybePromise<void> {
    return this.state.settle(id, lines, usd, now);
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
  if (budget.key === "task") return ctx.task;
  if (budget.key === "thread") return ctx.threadId;
  if (budget.key === "tenant") return ctx.tenant;
  return budget.key(ctx);
}

/** Requests and tokens per minute for the model calls that map to the same key, across the store's workers. */
export interface RateLimit {
  /** Names the limit in trips (`openai-rpm`). */
  name: string;
  /** `"model"` (the call's model), `"tenant"`, `"thread"`, or a function of the task's context and model. */
  key: "model" | "tenant" | "thread" | ((ctx: BudgetContext & { model: string }) => string | undefined);
  requestsPerMinute?: number;
  /** Counted on each call's worst case (input estimate + its output limit). */
  tokensPerMinute?: number;
  /** When limited, wait up to this long for room, then trip. Default 0: trip at once. */
  maxWaitMs?: number;
}

export function rateKey(limit: RateLimit, ctx: BudgetContext, model: string): string | undefined {
  if (limit.key === "model") return model;
  if (limit.key === "tenant") return ctx.tenant;
  if (limit.key === "thread") return ctx.threadId;
  return limit.key({ ...ctx, model });
}
