import { emptyTotals, type Figures, figures, type Totals } from "../metrics/totals.js";
import { emptyScoreStats, type ScoreFigures, type ScoreStats, scoreFigures } from "../quality/scores.js";
import { own } from "../tables.js";
import { OUTCOMES, type RunIndex } from "./RunIndex.js";

/** What the page asks for: a time range, filters, a search and a page of the run list. */
export interface RunQuery {
  /** Epoch ms, inclusive. */
  from?: number;
  /** Epoch ms, exclusive. */
  to?: number;
  agent?: string;
  version?: string;
  outcome?: string;
  tool?: string;
  model?: string;
  /** An error type, of the task or of any failed step. */
  error?: string;
  /** A breaker trip kind. */
  trip?: string;
  guard?: string;
  /** Searched in the run id, thread id, task input and answer, and error messages. */
  q?: string;
  /** Page of the run list, from 0. */
  page?: number;
  pageSize?: number;
}

export const FILTERS = ["agent", "version", "outcome", "tool", "model", "error", "trip", "guard", "q"] as const;
export const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 500;

/** Reads a query from a URL's search parameters; unknown or malformed values are ignored. */
export function parseQuery(params: URLSearchParams): RunQuery {
  const q: RunQuery = {};
  for (const key of FILTERS) {
    const v = params.get(key);
    if (v !== null && v !== "") q[key] = v;
  }
  for (const key of ["from", "to", "page", "pageSize"] as const) {
    const v = params.get(key);
    if (v === null || v === "") continue;
    const n = Number(v);
    if (Number.isFinite(n) && n >= 0) q[key] = Math.floor(n);
  }
  if (q.pageSize !== undefined) q.pageSize = Math.min(Math.max(q.pageSize, 1), MAX_PAGE_SIZE);
  return q;
}

/** A point of the trend charts: the tasks that started in one time bucket. */
export interface TrendPoint {
  t: number;
  tasks: number;
  success: number;
  failure: number;
  failures: number;
  recovered: number;
  costUsd: number;
  completedSubtasks: number;
  asf: number | null;
  err: number | null;
  cpcs: number | null;
}

export interface GroupFigures extends Figures {
  name: string;
  failures: number;
  recovered: number;
  meanDurationMs: number;
}

/** A version's figures, with its runs' online evaluation and feedback results. */
export interface VersionRow extends GroupFigures {
  /** Per evaluator (and `user_feedback`): results, mean score with the count it is over, pass rate. */
  scores: Record<string, ScoreFigures>;
  /** Judge cost of its runs' online evaluations, beside the agents' own (`totals.costUsd`). */
  evalCostUsd: number;
}

/** One evaluator's online evaluation results (or user feedback) over the runs selected. */
export interface ScoreRow extends ScoreFigures {
  name: string;
  kind: "eval" | "feedback";
}

export interface ToolRow {
  tool: string;
  calls: number;
  failures: number;
  recovered: number;
  err: number | null;
  meanMs: number;
  feesUsd: number;
}

export interface ErrorGroup {
  type: string;
  /** The tool that failed, `model NAME`, `eval NAME`, or `task` for the task's own error. */
  where: string;
  agent: string;
  count: number;
  /** The index of the newest run in the group (the follower turns it into a run id). */
  sample: number;
}

export interface EvalRow {
  name: string;
  runs: number;
  passed: number;
  failed: number;
  meanScore: number | null;
}

export interface Aggregates {
  range: { from: number | null; to: number | null };
  cumulative: Figures;
  trend: TrendPoint[];
  trendBucketMs: number;
  byAgent: GroupFigures[];
  byVersion: VersionRow[];
  byTool: ToolRow[];
  errorGroups: ErrorGroup[];
  evals: EvalRow[];
  /** Online evaluation results and user feedback of the runs selected, per evaluator. */
  scores: ScoreRow[];
  /** Judge cost of those results in USD, and judge calls with no price. */
  evalCost: { usd: number; unknownCalls: number };
  /** The matching runs, newest first (indexes into the RunIndex). */
  matches: Int32Array;
  /** The newest matching runs that tripped a breaker (indexes), at most 50. */
  trips: number[];
}

/** Bucket sizes of the trends: the smallest giving at most 60 buckets over the range. */
const STEPS = [
  1_000, 5_000, 15_000, 60_000, 300_000, 900_000, 3_600_000, 10_800_000, 21_600_000, 86_400_000, 604_800_000,
];
const MAX_BUCKETS = 60;

export function bucketFor(span: number): number {
  return STEPS.find((s) => span / s <= MAX_BUCKETS) ?? (STEPS[STEPS.length - 1] as number);
}

/** The runs a query selects, and every figure the page shows of them, in one pass over the index. */
export function aggregate(index: RunIndex, query: RunQuery): Aggregates {
  const n = index.n;
  const hits = query.q ? index.search(query.q) : undefined;
  const want = (dict: { find(name: string): number | undefined }, value: string | undefined) =>
    value === undefined ? undefined : (dict.find(value) ?? -2);
  const agent = want(index.agents, query.agent);
  const version = query.version === undefined ? undefined : (index.versions.find(query.version) ?? -2) + 1;
  const outcome = query.outcome === undefined ? undefined : OUTCOMES.indexOf(query.outcome as never);
  const tool = want(index.tools, query.tool);
  const model = want(index.models, query.model);
  const error = want(index.errorTypes, query.error);
  const trip = want(index.tripKinds, query.trip);
  const guard = want(index.guards, query.guard);
  const from = query.from ?? Number.NEGATIVE_INFINITY;
  const to = query.to ?? Number.POSITIVE_INFINITY;
  const c = {
    start: index.start.a,
    agent: index.agent.a,
    version: index.version.a,
    outcome: index.outcome.a,
  };
  const inList = (lists: { start: { a: Uint32Array }; key: { a: Uint32Array } }, i: number, key: number) => {
    for (let j = lists.start.a[i] as number; j < (lists.start.a[i + 1] as number); j++)
      if (lists.key.a[j] === key) return true;
    return false;
  };

  const matched: number[] = [];
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const start = c.start[i] as number;
    if (start < from || start >= to) continue;
    if (agent !== undefined && c.agent[i] !== agent) continue;
    if (version !== undefined && c.version[i] !== version) continue;
    if (outcome !== undefined && c.outcome[i] !== outcome) continue;
    if (hits && hits[i] === 0) continue;
    if (tool !== undefined && !inList(index.toolList, i, tool)) continue;
    if (model !== undefined && !inList(index.modelList, i, model)) continue;
    if (error !== undefined && !inList(index.errorList, i, error)) continue;
    if (trip !== undefined && !inList(index.tripList, i, trip)) continue;
    if (guard !== undefined && !inList(index.guardList, i, guard)) continue;
    matched.push(i);
    if (start < lo) lo = start;
    if (start > hi) hi = start;
  }
  if (index.ordered) matched.reverse();
  else matched.sort((a, b) => (c.start[b] as number) - (c.start[a] as number) || b - a);

  // Trend buckets over the range asked for, or over the matching runs when it is open.
  const tLo = query.from ?? lo;
  const tHi = query.to !== undefined ? query.to - 1 : hi;
  const bucketMs = Number.isFinite(tLo) && Number.isFinite(tHi) ? bucketFor(tHi - tLo) : 60_000;
  const first = Math.floor(tLo / bucketMs) * bucketMs;
  const buckets = Number.isFinite(tLo) && Number.isFinite(tHi) ? Math.floor(tHi / bucketMs) - first / bucketMs + 1 : 0;
  const trendTotals = Array.from({ length: Math.max(0, Math.min(buckets, 10_000)) }, emptyTotals);

  const all = emptyTotals();
  const agents = new Map<number, { t: Totals; ms: number }>();
  const versions = new Map<number, { t: Totals; ms: number }>();
  const tools = new Map<number, ToolRow>();
  const groups = new Map<string, ErrorGroup>();
  const evals = new Map<number, EvalRow & { scored: number; sum: number }>();
  const trips: number[] = [];
  for (const i of matched) {
    addRun(all, index, i);
    const b = trendTotals[Math.floor(((c.start[i] as number) - first) / bucketMs)];
    if (b) addRun(b, index, i);
    group(agents, c.agent[i] as number, index, i);
    if ((c.version[i] as number) > 0) group(versions, (c.version[i] as number) - 1, index, i);
    const tl = index.toolList;
    for (let j = tl.start.a[i] as number; j < (tl.start.a[i + 1] as number); j++) {
      const id = tl.key.a[j] as number;
      let row = tools.get(id);
      if (!row) {
        row = {
          tool: index.tools.names[id] as string,
          calls: 0,
          failures: 0,
          recovered: 0,
          err: null,
          meanMs: 0,
          feesUsd: 0,
        };
        tools.set(id, row);
      }
      row.calls += tl.extra.calls?.a[j] as number;
      row.failures += tl.extra.failures?.a[j] as number;
      row.recovered += tl.extra.recovered?.a[j] as number;
      row.feesUsd += tl.extra.cost?.a[j] as number;
      row.meanMs += tl.extra.ms?.a[j] as number; // a sum until the end
    }
    const el = index.errorList;
    for (let j = el.start.a[i] as number; j < (el.start.a[i + 1] as number); j++) {
      const type = el.key.a[j] as number;
      const where = el.extra.where?.a[j] as number;
      const key = `${type}:${where}:${c.agent[i]}`;
      const g = groups.get(key);
      if (g) g.count++;
      else
        groups.set(key, {
          type: index.errorTypes.names[type] as string,
          where: index.places.names[where] as string,
          agent: index.agents.names[c.agent[i] as number] as string,
          count: 1,
          sample: i,
        });
    }
    const ev = index.evalList;
    for (let j = ev.start.a[i] as number; j < (ev.start.a[i + 1] as number); j++) {
      const id = ev.key.a[j] as number;
      let row = evals.get(id);
      if (!row) {
        row = {
          name: index.evals.names[id] as string,
          runs: 0,
          passed: 0,
          failed: 0,
          meanScore: null,
          scored: 0,
          sum: 0,
        };
        evals.set(id, row);
      }
      row.runs++;
      const pass = ev.extra.pass?.a[j] as number;
      if (pass === 2) row.passed++;
      else if (pass === 1) row.failed++;
      const score = ev.extra.score?.a[j] as number;
      if (!Number.isNaN(score)) {
        row.scored++;
        row.sum += score;
      }
    }
    if (trips.length < 50 && index.tripList.start.a[i] !== index.tripList.start.a[i + 1]) trips.push(i);
  }

  // Evaluation records of the runs selected: per evaluator, and per evaluator of each version.
  const inView = new Uint8Array(n);
  for (const i of matched) inView[i] = 1;
  const rec = index.records;
  const scores = new Map<number, ScoreStats & { kind: "eval" | "feedback" }>();
  const byVersion = new Map<number, { scores: Map<number, ScoreStats>; costUsd: number }>();
  const evalCost = { usd: 0, unknownCalls: 0 };
  for (let j = 0; j < rec.n; j++) {
    const run = rec.run.a[j] as number;
    if (inView[run] !== 1) continue;
    const name = rec.name.a[j] as number;
    let all = scores.get(name);
    if (!all) {
      all = { ...emptyScoreStats(), kind: rec.kind.a[j] === 1 ? "feedback" : "eval" };
      scores.set(name, all);
    }
    addRecord(all, rec, j);
    evalCost.usd += rec.cost.a[j] as number;
    evalCost.unknownCalls += rec.costUnknown.a[j] as number;
    const v = c.version[run] as number;
    if (v === 0) continue;
    let ver = byVersion.get(v - 1);
    if (!ver) {
      ver = { scores: new Map(), costUsd: 0 };
      byVersion.set(v - 1, ver);
    }
    let stats = ver.scores.get(name);
    if (!stats) {
      stats = emptyScoreStats();
      ver.scores.set(name, stats);
    }
    addRecord(stats, rec, j);
    ver.costUsd += rec.cost.a[j] as number;
  }

  const named = (m: Map<number, { t: Totals; ms: number }>, names: string[]): GroupFigures[] =>
    [...m.entries()]
      .map(([id, g]) => ({
        name: names[id] as string,
        ...figures(g.t),
        failures: g.t.failures.tool + g.t.failures.model + g.t.failures.eval,
        recovered: g.t.recovered.tool + g.t.recovered.model + g.t.recovered.eval,
        meanDurationMs: g.t.tasks ? g.ms / g.t.tasks : 0,
      }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  return {
    range: { from: query.from ?? null, to: query.to ?? null },
    cumulative: figures(all),
    trend: trendTotals.map((t, k) => point(first + k * bucketMs, t)),
    trendBucketMs: bucketMs,
    byAgent: named(agents, index.agents.names),
    byVersion: named(versions, index.versions.names).map((g) => {
      const ver = byVersion.get(index.versions.find(g.name) as number);
      return {
        ...g,
        scores: Object.fromEntries(
          [...(ver?.scores ?? [])]
            .map(([name, st]) => [rec.names.names[name] as string, scoreFigures(st)] as const)
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        ),
        evalCostUsd: ver?.costUsd ?? 0,
      };
    }),
    byTool: [...tools.values()]
      .map((r) => ({
        ...r,
        err: r.failures ? r.recovered / r.failures : null,
        meanMs: r.calls ? r.meanMs / r.calls : 0,
      }))
      .sort((a, b) => b.calls - a.calls || (a.tool < b.tool ? -1 : 1)),
    errorGroups: [...groups.values()].sort((a, b) => b.count - a.count).slice(0, 20),
    evals: [...evals.values()].map(({ scored, sum, ...r }) => ({ ...r, meanScore: scored ? sum / scored : null })),
    scores: [...scores]
      .map(([name, { kind, ...st }]) => ({ name: rec.names.names[name] as string, kind, ...scoreFigures(st) }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    evalCost,
    matches: Int32Array.from(matched),
    trips,
  };
}

/** Adds record `j` of the table to `s`, as `addScore` adds a record. */
function addRecord(s: ScoreStats, rec: RunIndex["records"], j: number): void {
  s.count++;
  const pass = rec.pass.a[j] as number;
  if (pass === 2) s.passed++;
  else if (pass === 1) s.failed++;
  const score = rec.score.a[j] as number;
  if (!Number.isNaN(score)) {
    s.scored++;
    s.scoreSum += score;
    s.scoreSumSq += score * score;
  }
  s.costUsd += rec.cost.a[j] as number;
  s.costUnknownCalls += rec.costUnknown.a[j] as number;
}

function group(m: Map<number, { t: Totals; ms: number }>, id: number, index: RunIndex, i: number): void {
  let g = m.get(id);
  if (!g) {
    g = { t: emptyTotals(), ms: 0 };
    m.set(id, g);
  }
  addRun(g.t, index, i);
  g.ms += index.duration.a[i] as number;
}

function point(t: number, totals: Totals): TrendPoint {
  const f = figures(totals);
  return {
    t,
    tasks: totals.tasks,
    success: totals.success,
    failure: totals.failure,
    failures: totals.failures.tool + totals.failures.model + totals.failures.eval,
    recovered: totals.recovered.tool + totals.recovered.model + totals.recovered.eval,
    costUsd: totals.costUsd,
    completedSubtasks: totals.completedSubtasks,
    asf: f.asf,
    err: f.err,
    cpcs: f.cpcs,
  };
}

/** Adds run `i` of the index to `t`, as `addTask` adds a summary. */
function addRun(t: Totals, x: RunIndex, i: number): void {
  t.tasks++;
  const outcome = OUTCOMES[x.outcome.a[i] as number] ?? "failure";
  t[outcome]++;
  t.subtasks += x.subtasks.a[i] as number;
  t.completedSubtasks += x.completed.a[i] as number;
  t.failures.tool += x.fTool.a[i] as number;
  t.failures.model += x.fModel.a[i] as number;
  t.failures.eval += x.fEval.a[i] as number;
  const rt = x.rTool.a[i] as number;
  const rm = x.rModel.a[i] as number;
  const re = x.rEval.a[i] as number;
  t.recovered.tool += rt;
  t.recovered.model += rm;
  t.recovered.eval += re;
  const injected = x.injected.a[i] as number;
  t.injectedRecoveries += injected;
  t.organicRecoveries += rt + rm + re - injected;
  const cost = x.cost.a[i] as number;
  t.costUsd += cost;
  if (outcome === "success") t.costOfSuccessUsd += cost;
  t.costUnknownCalls += x.costUnknown.a[i] as number;
  t.estimatedUsageCalls += x.estimated.a[i] as number;
  t.tokens.input += x.tokIn.a[i] as number;
  t.tokens.output += x.tokOut.a[i] as number;
  t.retries += x.retries.a[i] as number;
  t.budgetReservations += x.reservations.a[i] as number;
  t.budgetRefusals += x.refusals.a[i] as number;
  t.stateFallbacks += x.fallbacks.a[i] as number;
  const tl = x.tripList;
  for (let j = tl.start.a[i] as number; j < (tl.start.a[i + 1] as number); j++) {
    const kind = x.tripKinds.names[tl.key.a[j] as number] as string;
    t.trips[kind] = (own(t.trips, kind) ?? 0) + (tl.extra.count?.a[j] as number);
  }
  const ll = x.loopList;
  for (let j = ll.start.a[i] as number; j < (ll.start.a[i + 1] as number); j++) {
    const name = x.loopNames.names[ll.key.a[j] as number] as string;
    t.suspectedLoops[name] = (own(t.suspectedLoops, name) ?? 0) + (ll.extra.count?.a[j] as number);
  }
}
