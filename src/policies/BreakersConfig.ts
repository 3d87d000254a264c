import type { PriceTable } from "../pricing/PriceTable.js";
import type { Run } from "../run/run.js";
import type { StateStore } from "../state/StateStore.js";
import type { BudgetStore, RateLimit, SharedBudget } from "./budgetStore.js";
import type { Trip } from "./trip.js";

/**
 * What a trip does: stop the run with an error, lead the agent to a final answer, or `ask`: pause the
 * task with LangGraph's `interrupt()` for a person to raise the limit (approve) or end it (reject).
 */
export type TripAction = "abort" | "finalize" | "ask";

/** @internal The resolved breaker configuration a TaskGuard works with. */
export interface BreakersConfig {
  action: TripAction;
  onTrip: ((trip: Trip, run: Run) => TripAction | "continue") | undefined;
  loops:
    | { repeats: number; window: number; nearDuplicates: boolean; stop: boolean; hint: boolean; stateCycles: boolean }
    | false;
  sharedBudgets: SharedBudget[];
  budgetStore: BudgetStore;
  /** How long a call's reservation lives if its worker never settles it (it died). */
  reservationTtlMs: number;
  rateLimits: RateLimit[];
  /** Where rate limits keep their state. */
  state: StateStore;
  prices: PriceTable;
  defaultMaxOutputTokens: number;
}
