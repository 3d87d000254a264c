import { pyRound } from "../evals/builtin/python.js";
import type { Totals } from "./totals.js";

/** ARGUS's inputs: planned P, completed C, failed F, recovered R, retries N, total cost $. */
export interface ArgusCounts {
  planned: number;
  completed: number;
  failed: number;
  recovered: number;
  retries: number;
  costUsd: number;
}

/** ARGUS scoring (argus-llm `scoring/agentic.py`): not agentwarden's fractions, kept for comparison. */
export interface ArgusScores {
  /** "Agent Stability Factor" in ARGUS. */
  asf: number;
  err: number;
  /** "Cost Per Completed Step" in ARGUS: 1 − (cost per completed step / budget), clamped. */
  cpcs: number;
}

/** Default ARGUS budget per step, in USD. */
export const ARGUS_DEFAULT_BUDGET_PER_STEP = 0.1;

/** The ARGUS scores from its counts, as its code computes them (rounded to 4 places). */
export function argusScores(c: ArgusCounts, budgetPerStep = ARGUS_DEFAULT_BUDGET_PER_STEP): ArgusScores {
  const { planned: P, completed: C, failed: F, recovered: R, retries: N, costUsd } = c;
  const asf =
    P === 0
      ? 0.5
      : clamp(Math.min(C / P, 1) * (1 - Math.min(F / P, 1)) * Math.max(0.5, 1 - (0.1 * N) / Math.max(P, 1)));
  let err: number;
  if (F === 0) err = 1;
  else {
    const bonus = R > 0 ? Math.max(0, 0.1 - (0.02 * N) / R) : 0;
    err = clamp(Math.min(1, Math.min(R / F, 1) + bonus));
  }
  const cpcs = C === 0 ? 0 : Math.max(0, 1 - Math.min(costUsd / C / budgetPerStep, 1));
  return { asf: round4(asf), err: round4(err), cpcs: round4(cpcs) };
}

/**
 * ARGUS's counts derived from real events: P = subtasks attempted, C = completed, F = failures of
 * every kind, R = recovered failures, N = retries (`TaskSummary.retries`: agentwarden's retries of
 * a tool call and a `RetryPolicy`'s node re-runs; fallbacks and corrections are not retries), $ = cost.
 */
export function argusCounts(t: Totals): ArgusCounts {
  return {
    planned: t.subtasks,
    completed: t.completedSubtasks,
    failed: t.failures.tool + t.failures.model + t.failures.eval,
    recovered: t.recovered.tool + t.recovered.model + t.recovered.eval,
    retries: t.retries,
    costUsd: t.costUsd,
  };
}

function clamp(x: number): number {
  return Math.min(1, Math.max(0, x));
}

/** Python's `round(x, 4)`, as ARGUS rounds: the exact binary value, a tie to the even digit. */
function round4(x: number): number {
  return pyRound(x, 4);
}
