import type { PriceTable } from "../pricing/PriceTable.js";
import type { Run } from "../run/run.js";
import type { BudgetStore, SharedBudget } from "./budgetStore.js";
import type { Trip } from "./trip.js";

/** What a trip does: stop the run with an error, or lead the agent to a final answer. */
export type TripAction = "abort" | "finalize";

/** @internal The resolved breaker configuration a TaskGuard works with. */
export interface BreakersConfig {
  action: TripAction;
  onTrip: ((trip: Trip, run: Run) => TripAction | "continue") | undefined;
  loops:
    | { repeats: number; window: number; nearDuplicates: boolean; stop: boolean; hint: boolean; stateCycles: boolean }
    | false;
  sharedBudgets: SharedBudget[];
  budgetStore: BudgetStore;
  prices: PriceTable;
  defaultMaxOutputTokens: number;
}
