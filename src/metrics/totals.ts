import type { KindCounts, TaskSummary } from "./summary.js";

/** Counts summed over tasks: everything the ratios are computed from. */
export interface Totals {
  tasks: number;
  success: number;
  failure: number;
  interrupted: number;
  cancelled: number;
  subtasks: number;
  completedSubtasks: number;
  failures: KindCounts;
  recovered: KindCounts;
  injectedRecoveries: number;
  organicRecoveries: number;
  costUsd: number;
  costOfSuccessUsd: number;
  costUnknownCalls: number;
  estimatedUsageCalls: number;
  tokens: { input: number; output: number; cacheRead: number; cacheWrite: number };
  trips: Record<string, number>;
  retries: number;
}

export function emptyTotals(): Totals {
  return {
    tasks: 0,
    success: 0,
    failure: 0,
    interrupted: 0,
    cancelled: 0,
    subtasks: 0,
    completedSubtasks: 0,
    failures: { tool: 0, model: 0, eval: 0 },
    recovered: { tool: 0, model: 0, eval: 0 },
    injectedRecoveries: 0,
    organicRecoveries: 0,
    costUsd: 0,
    costOfSuccessUsd: 0,
    costUnknownCalls: 0,
    estimatedUsageCalls: 0,
    tokens: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
    trips: {},
    retries: 0,
  };
}

/** Adds (sign 1) or removes (sign -1) one task's figures. */
export function addTask(t: Totals, s: TaskSummary, sign: 1 | -1 = 1): void {
  t.tasks += sign;
  t[s.outcome] += sign;
  t.subtasks += sign * s.subtasks;
  t.completedSubtasks += sign * s.completedSubtasks;
  for (const k of ["tool", "model", "eval"] as const) {
    t.failures[k] += sign * s.failures[k];
    t.recovered[k] += sign * s.recovered[k];
  }
  const injected = s.recoveredInjected.tool + s.recoveredInjected.model + s.recoveredInjected.eval;
  const recovered = s.recovered.tool + s.recovered.model + s.recovered.eval;
  t.injectedRecoveries += sign * injected;
  t.organicRecoveries += sign * (recovered - injected);
  t.costUsd += sign * s.costUsd;
  if (s.outcome === "success") t.costOfSuccessUsd += sign * s.costUsd;
  t.costUnknownCalls += sign * s.costUnknownCalls;
  t.estimatedUsageCalls += sign * s.estimatedUsageCalls;
  t.tokens.input += sign * s.tokens.input;
  t.tokens.output += sign * s.tokens.output;
  t.tokens.cacheRead += sign * s.tokens.cacheRead;
  t.tokens.cacheWrite += sign * s.tokens.cacheWrite;
  for (const [kind, n] of Object.entries(s.trips)) t.trips[kind] = (t.trips[kind] ?? 0) + sign * n;
  t.retries += sign * s.retries;
}

/** Adds `b` into `a`. */
export function mergeTotals(a: Totals, b: Totals): void {
  a.tasks += b.tasks;
  a.success += b.success;
  a.failure += b.failure;
  a.interrupted += b.interrupted;
  a.cancelled += b.cancelled;
  a.subtasks += b.subtasks;
  a.completedSubtasks += b.completedSubtasks;
  for (const k of ["tool", "model", "eval"] as const) {
    a.failures[k] += b.failures[k];
    a.recovered[k] += b.recovered[k];
  }
  a.injectedRecoveries += b.injectedRecoveries;
  a.organicRecoveries += b.organicRecoveries;
  a.costUsd += b.costUsd;
  a.costOfSuccessUsd += b.costOfSuccessUsd;
  a.costUnknownCalls += b.costUnknownCalls;
  a.estimatedUsageCalls += b.estimatedUsageCalls;
  a.tokens.input += b.tokens.input;
  a.tokens.output += b.tokens.output;
  a.tokens.cacheRead += b.tokens.cacheRead;
  a.tokens.cacheWrite += b.tokens.cacheWrite;
  for (const [kind, n] of Object.entries(b.trips)) a.trips[kind] = (a.trips[kind] ?? 0) + n;
  a.retries += b.retries;
}

/** The agent metrics: plain fractions, null when there is nothing to divide by. */
export interface Figures {
  /** Successful tasks / (successful + failed). Cancelled and interrupted runs are not in it. */
  asf: number | null;
  /** Recovered failures / failures, overall. */
  err: number | null;
  errByKind: { tool: number | null; model: number | null; eval: number | null };
  /** Total cost of all tasks / completed subtasks (a lower bound when `costUnknownCalls` > 0). */
  cpcs: number | null;
  costPerSuccessfulTask: number | null;
  failuresPerTask: number | null;
  /** False when some model call had no price: costs and CPCS are then lower bounds. */
  costComplete: boolean;
  /** The counts behind the ratios. */
  totals: Totals;
}

export function figures(t: Totals): Figures {
  const ended = t.success + t.failure;
  const failures = t.failures.tool + t.failures.model + t.failures.eval;
  const recovered = t.recovered.tool + t.recovered.model + t.recovered.eval;
  const counted = t.success + t.failure + t.cancelled;
  return {
    asf: ratio(t.success, ended),
    err: ratio(recovered, failures),
    errByKind: {
      tool: ratio(t.recovered.tool, t.failures.tool),
      model: ratio(t.recovered.model, t.failures.model),
      eval: ratio(t.recovered.eval, t.failures.eval),
    },
    cpcs: ratio(t.costUsd, t.completedSubtasks),
    costPerSuccessfulTask: ratio(t.costOfSuccessUsd, t.success),
    failuresPerTask: ratio(failures, counted),
    costComplete: t.costUnknownCalls === 0,
    totals: t,
  };
}

function ratio(a: number, b: number): number | null {
  return b > 0 ? a / b : null;
}
