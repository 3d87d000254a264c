import { nullTable, own } from "../tables.js";
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
  /** Suspected loops by tool or node name (null prototype: the names come from agents and servers). */
  suspectedLoops: Record<string, number>;
  retries: number;
  /** Shared-budget reservations, refusals and local fallbacks (README "Many workers"). */
  budgetReservations: number;
  budgetRefusals: number;
  stateFallbacks: number;
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
    trips: nullTable(),
    suspectedLoops: nullTable(),
    retries: 0,
    budgetReservations: 0,
    budgetRefusals: 0,
    stateFallbacks: 0,
  };
}

/** One task's summary as totals of a single task. */
export function totalsOf(s: TaskSummary): Totals {
  // A task's figures are added to five tables (cumulative, two windows, its agent, its version):
  // worked out once per summary, which does not change once made. Read-only to every caller.
  const known = computed.get(s);
  if (known !== undefined) return known;
  const t = emptyTotals();
  t.tasks = 1;
  t[s.outcome] = 1;
  t.subtasks = s.subtasks;
  t.completedSubtasks = s.completedSubtasks;
  t.failures = { ...s.failures };
  t.recovered = { ...s.recovered };
  const injected = s.recoveredInjected.tool + s.recoveredInjected.model + s.recoveredInjected.eval;
  t.injectedRecoveries = injected;
  t.organicRecoveries = s.recovered.tool + s.recovered.model + s.recovered.eval - injected;
  t.costUsd = s.costUsd;
  if (s.outcome === "success") t.costOfSuccessUsd = s.costUsd;
  t.costUnknownCalls = s.costUnknownCalls;
  t.estimatedUsageCalls = s.estimatedUsageCalls;
  t.tokens = { ...s.tokens };
  t.trips = nullTable(s.trips);
  for (const [name, n] of Object.entries(s.suspectedLoops ?? {})) t.suspectedLoops[name] = n;
  t.retries = s.retries;
  t.budgetReservations = s.fleet?.reservations ?? 0;
  t.budgetRefusals = s.fleet?.refusals ?? 0;
  t.stateFallbacks = s.fleet?.fallbacks ?? 0;
  computed.set(s, t);
  return t;
}

const computed = new WeakMap<TaskSummary, Totals>();

/** Adds (sign 1) or removes (sign -1) one task's figures. */
export function addTask(t: Totals, s: TaskSummary, sign: 1 | -1 = 1): void {
  mergeTotals(t, totalsOf(s), sign);
}

/** Adds `b` into `a` (or takes it out, with sign -1). */
export function mergeTotals(a: Totals, b: Totals, sign: 1 | -1 = 1): void {
  for (const key of COUNTS) a[key] += sign * b[key];
  for (const k of ["tool", "model", "eval"] as const) {
    a.failures[k] += sign * b.failures[k];
    a.recovered[k] += sign * b.recovered[k];
  }
  for (const k of ["input", "output", "cacheRead", "cacheWrite"] as const) a.tokens[k] += sign * b.tokens[k];
  for (const [kind, n] of Object.entries(b.trips)) a.trips[kind] = (own(a.trips, kind) ?? 0) + sign * n;
  for (const [name, n] of Object.entries(b.suspectedLoops)) {
    const left = (own(a.suspectedLoops, name) ?? 0) + sign * n;
    if (left === 0) delete a.suspectedLoops[name];
    else a.suspectedLoops[name] = left;
  }
}

/** The plain numeric fields of Totals. */
const COUNTS = [
  "tasks",
  "success",
  "failure",
  "interrupted",
  "cancelled",
  "subtasks",
  "completedSubtasks",
  "injectedRecoveries",
  "organicRecoveries",
  "costUsd",
  "costOfSuccessUsd",
  "costUnknownCalls",
  "estimatedUsageCalls",
  "retries",
  "budgetReservations",
  "budgetRefusals",
  "stateFallbacks",
] as const satisfies ReadonlyArray<keyof Totals>;

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
