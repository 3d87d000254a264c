import { BREAKER_TRIP } from "../policies/trip.js";
import type { PriceTable } from "../pricing/PriceTable.js";
import type { Run, TaskOutcome } from "../run/run.js";
import type { RecoveryAction, Step, StepError, StepKind, StepStatus } from "../run/step.js";
import type { TokenUsage } from "../run/usage.js";
import { nullTable, own } from "../tables.js";

declare module "../run/types.js" {
  /** `run.summary()` returns the TaskSummary. */
  interface RunTypes {
    summary: TaskSummary;
  }
}

/** What counts as a subtask: each tool call (default) or each graph node execution. */
export type SubtaskRule = "tool" | "node";

export type FailureKind = "tool" | "model" | "eval";

export interface KindCounts {
  tool: number;
  model: number;
  eval: number;
}

export interface ToolFigures {
  calls: number;
  completed: number;
  failures: number;
  recovered: number;
  costUsd: number;
  durationMs: number;
}

export interface ModelFigures {
  calls: number;
  failures: number;
  recovered: number;
  tokens: Required<TokenUsage>;
  costUsd: number;
  costUnknownCalls: number;
  estimatedUsageCalls: number;
}

export function emptyToolFigures(): ToolFigures {
  return { calls: 0, completed: 0, failures: 0, recovered: 0, costUsd: 0, durationMs: 0 };
}

/** Adds `from` into `into`. */
export function addToolFigures(into: ToolFigures, from: ToolFigures): void {
  into.calls += from.calls;
  into.completed += from.completed;
  into.failures += from.failures;
  into.recovered += from.recovered;
  into.costUsd += from.costUsd;
  into.durationMs += from.durationMs;
}

export function emptyModelFigures(): ModelFigures {
  return {
    calls: 0,
    failures: 0,
    recovered: 0,
    tokens: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
    costUsd: 0,
    costUnknownCalls: 0,
    estimatedUsageCalls: 0,
  };
}

/** Adds `from` into `into`. */
export function addModelFigures(into: ModelFigures, from: ModelFigures): void {
  into.calls += from.calls;
  into.failures += from.failures;
  into.recovered += from.recovered;
  into.tokens.input += from.tokens.input;
  into.tokens.output += from.tokens.output;
  into.tokens.cacheRead += from.tokens.cacheRead;
  into.tokens.cacheWrite += from.tokens.cacheWrite;
  into.costUsd += from.costUsd;
  into.costUnknownCalls += from.costUnknownCalls;
  into.estimatedUsageCalls += from.estimatedUsageCalls;
}

export interface NodeFigures {
  runs: number;
  failures: number;
  durationMs: number;
}

/** One step of a task, compact, for the run store and the dashboard's step tree. */
export interface StepRecord {
  /** Index of the parent in `steps`, -1 for the root. */
  p: number;
  k: StepKind;
  n: string;
  /** Start, in ms after the task started. */
  t: number;
  /** Duration in ms. */
  d: number;
  s: Exclude<StepStatus, "running"> | "running";
  e?: StepError;
  /** Tokens in, out (model calls); `est` when estimated. */
  tok?: [number, number];
  est?: true;
  usd?: number;
  /** True when agentwarden injected the step (a recovery). */
  inj?: true;
  /** A recovery step: what it did (`a`), for which tool or node (`to`), after how many attempts (`n`). */
  rc?: { a: RecoveryAction; to: string; n?: number; m?: string };
  /** A fallback tool call: the tool it stands in for. */
  fb?: string;
  /** A tool call answered with agentwarden's loop hint instead of being run. */
  hint?: true;
  /** An evaluator's verdict and score, when it gave them. */
  ev?: { pass?: boolean; score?: number };
  /** A guard step: its decision (`continue`, `block`, `redact`, `escalate`, `approve`, `edit`, `reject`) and the evaluator that decided. */
  gd?: { d: string; by?: string };
}

/** Everything the metrics, the run store and the report need of one finished task. */
export interface TaskSummary {
  v: 1;
  id: string;
  agent: string;
  kind: "agent" | "workflow";
  outcome: TaskOutcome;
  error?: StepError;
  /** Epoch ms. */
  start: number;
  durationMs: number;
  conversationId?: string;
  /** The prompt or agent version the task ran with (`WrapOptions.version` or the invoke's); absent when none. */
  version?: string;
  /** Model calls by finish reason (`stop`, `length`, `tool_calls`, ...); absent when no call reported one. */
  finishReasons?: Record<string, number>;
  /** Priced cost in USD of every model call and paid tool call; a lower bound when `costUnknownCalls` > 0. */
  costUsd: number;
  /** Model calls whose model has no price: their cost is unknown, not 0. */
  costUnknownCalls: number;
  /** Model calls priced from estimated usage (the provider reported none). */
  estimatedUsageCalls: number;
  tokens: Required<TokenUsage>;
  subtasks: number;
  completedSubtasks: number;
  failures: KindCounts;
  recovered: KindCounts;
  /** Of the recovered failures, those recovered by a step agentwarden injected (the rest: organic). */
  recoveredInjected: KindCounts;
  /** Breaker trips by kind. */
  trips: Record<string, number>;
  /**
   * Guard decisions that acted (not `continue`), by `point.decision` (`output.block`, `input.redact`,
   * `tool.escalate`, `tool.edit`, ...); absent when none. A block makes the task a failure (error type
   * `guard_blocked`), not counted in ERR.
   */
  guards?: Record<string, number>;
  /** Suspected loops (detected, reported, not stopped), by the tool or node that repeated; absent when none. */
  suspectedLoops?: Record<string, number>;
  /**
   * Shared-state decisions before model calls (README "Many workers"), absent when none: budget
   * reservations made, calls a shared budget refused, decisions made locally because the shared
   * store was unreachable (failOpen).
   */
  fleet?: { reservations: number; refusals: number; fallbacks: number };
  /**
   * Retries (ARGUS's N): re-runs of the same call after it failed — each retry agentwarden made of
   * a tool call (`recovery.retry`) and each node attempt after the first under a `RetryPolicy`. A
   * fallback, a corrective message, a handler's answer and an eval correction are not retries.
   */
  retries: number;
  tools: Record<string, ToolFigures>;
  models: Record<string, ModelFigures>;
  nodes: Record<string, NodeFigures>;
  steps: StepRecord[];
  /** True when the task had more steps than a summary keeps (`MAX_STEP_RECORDS`). */
  stepsTruncated?: true;
  /** With `captureContent`: the task's input (the first model call's last user message), cut to `MAX_TASK_TEXT`. */
  input?: string;
  /** With `captureContent`: the task's answer (the last model call's output), cut to `MAX_TASK_TEXT`. */
  answer?: string;
}

/** Characters of the task's input and answer kept in a summary. */
export const MAX_TASK_TEXT = 500;

/** A summary keeps at most this many step records; figures always count every step. */
export const MAX_STEP_RECORDS = 2_000;

/**
 * Computes a task's figures from its ledger, by the definitions of `shared/briefs/metrics.md`:
 * subtasks and their completion, failures by kind and whether a later success of the same thing
 * recovered them, cost priced per model call (estimated usage marked, unknown models counted).
 */
export function summarize(run: Run, prices: PriceTable, rule: SubtaskRule = "tool"): TaskSummary {
  const all: Step[] = [];
  const records: StepRecord[] = [];
  const index = new Map<Step, number>();
  const walk = (step: Step) => {
    all.push(step);
    if (records.length < MAX_STEP_RECORDS) {
      index.set(step, records.length);
      records.push(record(step, run.startTime, step.parent ? (index.get(step.parent) ?? -1) : -1));
    }
    for (const child of step.children) walk(child);
  };
  walk(run.root);

  const s: TaskSummary = {
    v: 1,
    id: run.id,
    agent: run.name,
    kind: run.root.kind === "agent" ? "agent" : "workflow",
    outcome: run.outcome ?? "failure",
    start: run.startTime,
    durationMs: (run.endTime ?? run.root.endTime ?? run.startTime) - run.startTime,
    costUsd: 0,
    costUnknownCalls: 0,
    estimatedUsageCalls: 0,
    tokens: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
    subtasks: 0,
    completedSubtasks: 0,
    failures: { tool: 0, model: 0, eval: 0 },
    recovered: { tool: 0, model: 0, eval: 0 },
    recoveredInjected: { tool: 0, model: 0, eval: 0 },
    trips: nullTable(run.trips),
    retries: 0,
    // Keyed by tool, model and node names: no prototype (see tables.ts).
    tools: nullTable(),
    models: nullTable(),
    nodes: nullTable(),
    steps: records,
  };
  if (run.error) s.error = run.error;
  if (Object.keys(run.suspectedLoops).length > 0) s.suspectedLoops = nullTable(run.suspectedLoops);
  const fleet = fleetOf(all);
  if (fleet) s.fleet = fleet;
  if (run.root.graph?.conversationId !== undefined) s.conversationId = run.root.graph.conversationId;
  if (run.root.graph?.version !== undefined) s.version = run.root.graph.version;
  if (all.length > records.length) s.stepsTruncated = true;
  const chats = all.filter((step) => step.kind === "chat");
  const input = messageText(chats[0]?.chat?.input, "first-user");
  const answer = messageText(chats[chats.length - 1]?.chat?.output, "last");
  if (input !== undefined) s.input = input;
  if (answer !== undefined) s.answer = answer;

  for (const step of all) {
    // A step stopped by a breaker did not fail at its work: control flow, never a failure to recover.
    const control = isTripped(step);
    const failed = step.status === "error" && !control;
    const ms = step.duration ?? 0;
    // A retry re-runs the same call: a fallback (`tool.recovers`) is another tool standing in.
    if (step.injected && step.kind === "tool" && step.tool?.recovers === undefined) s.retries++;
    switch (step.kind) {
      case "node": {
        const f = entry(s.nodes, step.name, () => ({ runs: 0, failures: 0, durationMs: 0 }));
        f.runs++;
        f.durationMs += ms;
        if (failed) f.failures++;
        if ((step.node?.attempt ?? 1) > 1) s.retries++;
        if (rule === "node") countSubtask(s, step);
        break;
      }
      case "tool": {
        // A call agentwarden refused (a loop hint, a stop, a trip) or the caller cancelled did not run.
        if (step.status === "cancelled" || control) break;
        const f = entry(s.tools, step.name, emptyToolFigures);
        f.calls++;
        f.durationMs += ms;
        if (step.status === "ok") f.completed++;
        if (failed) {
          f.failures++;
          s.failures.tool++;
        }
        const toolCost = step.tool?.costUsd;
        if (toolCost !== undefined && Number.isFinite(toolCost) && toolCost > 0) {
          f.costUsd += toolCost;
          s.costUsd += toolCost;
        }
        if (rule === "tool") countSubtask(s, step);
        break;
      }
      case "eval":
        // A guard's evaluator that finds something is a finding, not a failure to recover.
        if (failed && step.parent?.kind !== "guard") s.failures.eval++;
        break;
      case "guard": {
        const d = step.guard?.decision;
        if (d !== undefined && d !== "continue") {
          s.guards ??= nullTable();
          const key = `${step.guard?.point}.${d}`;
          s.guards[key] = (own(s.guards, key) ?? 0) + 1;
        }
        break;
      }
      case "chat": {
        const cost = priceChat(s, step, prices);
        const i = index.get(step);
        if (cost !== undefined && i !== undefined) (records[i] as StepRecord).usd = cost;
        break;
      }
    }
  }
  countRecoveries(s, all);
  exactAmounts(s);
  return s;
}

/**
 * Sums of tokens, costs and durations held at 2^53 − 1, the largest a store reader takes: a model
 * that reports absurd usage, or a tool cost of 1e300, must not make the task's line unreadable.
 */
function exactAmounts(s: TaskSummary): void {
  const cap = (o: Record<string, number>, keys: readonly string[]) => {
    for (const k of keys) {
      const v = o[k];
      if (typeof v === "number" && !(v <= Number.MAX_SAFE_INTEGER)) o[k] = Number.MAX_SAFE_INTEGER;
    }
  };
  const AMOUNTS = ["durationMs", "costUsd"] as const;
  const TOKENS = ["input", "output", "cacheRead", "cacheWrite"] as const;
  cap(s as unknown as Record<string, number>, AMOUNTS);
  cap(s.tokens as unknown as Record<string, number>, TOKENS);
  for (const m of Object.values(s.models)) {
    cap(m as unknown as Record<string, number>, AMOUNTS);
    cap(m.tokens as unknown as Record<string, number>, TOKENS);
  }
  for (const t of Object.values(s.tools)) cap(t as unknown as Record<string, number>, AMOUNTS);
  for (const n of Object.values(s.nodes)) cap(n as unknown as Record<string, number>, AMOUNTS);
  for (const r of s.steps) {
    if (r.usd !== undefined && !(r.usd <= Number.MAX_SAFE_INTEGER)) r.usd = Number.MAX_SAFE_INTEGER;
    if (r.tok) r.tok = [Math.min(r.tok[0], Number.MAX_SAFE_INTEGER), Math.min(r.tok[1], Number.MAX_SAFE_INTEGER)];
  }
}

function countSubtask(s: TaskSummary, step: Step): void {
  s.subtasks++;
  if (step.status === "ok") s.completedSubtasks++;
}

function priceChat(s: TaskSummary, step: Step, prices: PriceTable): number | undefined {
  if (isTripped(step)) return undefined; // refused by a breaker before it was made
  const chat = step.chat;
  const model = chat?.responseModel ?? chat?.requestModel ?? step.name;
  const f = entry(s.models, model, emptyModelFigures);
  f.calls++;
  for (const reason of chat?.finishReasons ?? []) {
    s.finishReasons ??= nullTable();
    s.finishReasons[reason] = (own(s.finishReasons, reason) ?? 0) + 1;
  }
  if (step.status === "error") {
    f.failures++;
    s.failures.model++;
  }
  const usage = chat?.usage ?? chat?.estimatedUsage;
  if (!usage) return undefined; // a failed call with no usage reported: nothing billed that we know of
  if (!chat?.usage) {
    f.estimatedUsageCalls++;
    s.estimatedUsageCalls++;
  }
  for (const t of [s.tokens, f.tokens]) {
    t.input += usage.input;
    t.output += usage.output;
    t.cacheRead += usage.cacheRead ?? 0;
    t.cacheWrite += usage.cacheWrite ?? 0;
  }
  const cost =
    (chat?.responseModel !== undefined ? prices.cost(chat.responseModel, usage) : undefined) ??
    (chat ? prices.cost(chat.requestModel, usage) : undefined);
  if (cost === undefined) {
    f.costUnknownCalls++;
    s.costUnknownCalls++;
  } else {
    f.costUsd += cost;
    s.costUsd += cost;
  }
  return cost;
}

/**
 * A failure is recovered when a success of the same thing starts after it ended: the same tool (or
 * a fallback standing in for it), the same model node producing output. The recovery is `injected`
 * when the succeeding step was put there by agentwarden, else `organic`.
 */
function countRecoveries(s: TaskSummary, steps: Step[]): void {
  const successes = new Map<string, Step[]>();
  const failures: Array<[FailureKind, string, Step]> = [];
  for (const step of steps) {
    const key = recoveryKey(step);
    if (!key) continue;
    if (step.status === "ok") {
      const list = successes.get(key);
      if (list) list.push(step);
      else successes.set(key, [step]);
    } else if (step.status === "error" && !isTripped(step) && step.parent?.kind !== "guard") {
      failures.push([step.kind === "tool" ? "tool" : step.kind === "eval" ? "eval" : "model", key, step]);
    }
  }
  for (const [kind, key, failure] of failures) {
    const end = failure.endTime ?? Number.POSITIVE_INFINITY;
    const later = successes.get(key)?.find((ok) => ok.startTime >= end);
    if (!later) continue;
    s.recovered[kind]++;
    if (later.injected || failure.recoveredBy !== undefined) s.recoveredInjected[kind]++;
    if (kind === "tool") {
      const f = own(s.tools, failure.name);
      if (f) f.recovered++;
    } else if (kind === "model") {
      const model = failure.chat?.responseModel ?? failure.chat?.requestModel ?? failure.name;
      const f = own(s.models, model);
      if (f) f.recovered++;
    }
  }
}

function recoveryKey(step: Step): string | undefined {
  if (step.kind === "tool") return `tool:${step.tool?.recovers ?? step.name}`;
  if (step.kind === "eval") return `eval:${step.eval?.target ?? ""}:${step.name}`;
  if (step.kind === "chat") {
    const node = step.parent?.kind === "node" ? step.parent.name : undefined;
    return `model:${node ?? step.chat?.requestModel ?? step.name}`;
  }
  return undefined;
}

function record(step: Step, origin: number, parent: number): StepRecord {
  const r: StepRecord = {
    p: parent,
    k: step.kind,
    n: step.name,
    t: round(step.startTime - origin),
    d: round((step.endTime ?? step.startTime) - step.startTime),
    s: step.status,
  };
  if (step.error) r.e = step.error;
  const usage = step.chat?.usage ?? step.chat?.estimatedUsage;
  if (usage) r.tok = [usage.input, usage.output];
  if (step.chat && !step.chat.usage && step.chat.estimatedUsage) r.est = true;
  if (step.injected) r.inj = true;
  const rc = step.recovery;
  if (rc) {
    r.rc = { a: rc.action, to: rc.target };
    if (rc.attempts !== undefined) r.rc.n = rc.attempts;
    if (rc.message !== undefined) r.rc.m = rc.message.slice(0, MAX_TASK_TEXT);
  }
  if (step.tool?.recovers !== undefined) r.fb = step.tool.recovers;
  if (step.events?.some((e) => e.name === "agentwarden.loop.hint")) r.hint = true;
  if (step.eval && (step.eval.pass !== undefined || step.eval.score !== undefined)) {
    r.ev = {};
    if (step.eval.pass !== undefined) r.ev.pass = step.eval.pass;
    if (step.eval.score !== undefined && Number.isFinite(step.eval.score)) r.ev.score = step.eval.score;
  }
  if (step.guard?.decision !== undefined) {
    r.gd = { d: step.guard.decision };
    if (step.guard.evaluator !== undefined) r.gd.by = step.guard.evaluator;
  }
  return r;
}

/**
 * The text of a captured message list (`[{ role, parts: [{ type: "text", content }] }]` in the GenAI
 * conventions' shape, or `[{ role, content }]`, possibly nested by prompt): the first user message,
 * or the last message. Undefined when nothing was captured or the message has no text (a tool call).
 */
function messageText(captured: string | undefined, which: "first-user" | "last"): string | undefined {
  if (captured === undefined) return undefined;
  let text: string | undefined = captured;
  try {
    const messages = [JSON.parse(captured)].flat(2) as Array<{ role?: unknown; content?: unknown; parts?: unknown }>;
    const m =
      which === "last"
        ? messages[messages.length - 1]
        : messages.find((x) => x?.role === "user" || x?.role === "human");
    if (m && typeof m === "object") {
      if (typeof m.content === "string") text = m.content;
      else if (Array.isArray(m.parts)) {
        text = (m.parts as Array<{ type?: unknown; content?: unknown } | null>)
          .filter((p) => p?.type === "text" && typeof p.content === "string")
          .map((p) => p?.content as string)
          .join("\n");
      } else text = undefined;
    }
  } catch {
    // not JSON: the captured text as it is
  }
  text = text?.trim();
  return text ? text.slice(0, MAX_TASK_TEXT) : undefined;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

function entry<T>(table: Record<string, T>, key: string, make: () => T): T {
  let value = own(table, key);
  if (value === undefined) {
    value = make();
    table[key] = value;
  }
  return value;
}

function isTripped(step: Step): boolean {
  return step.error?.type === BREAKER_TRIP;
}

/**
 * Counts a task's shared-state decisions from its model calls' events: budget reservations and
 * refusals (`agentwarden.budget.reserve`), and the decisions made locally because the shared
 * store was unreachable, of budgets and of rate limits alike.
 */
function fleetOf(steps: Step[]): TaskSummary["fleet"] {
  let reservations = 0;
  let refusals = 0;
  let fallbacks = 0;
  for (const step of steps) {
    if (step.kind !== "chat" || !step.events) continue;
    for (const e of step.events) {
      if (isLocalRateDecision(e)) fallbacks++;
      if (e.name !== "agentwarden.budget.reserve") continue;
      const outcome = e.attributes?.["agentwarden.budget.outcome"];
      if (outcome === "reserved" || outcome === "reserved_local") reservations++;
      if (outcome === "refused" || outcome === "refused_local") refusals++;
      if (outcome === "reserved_local" || outcome === "refused_local") fallbacks++;
    }
  }
  return reservations + refusals + fallbacks > 0 ? { reservations, refusals, fallbacks } : undefined;
}

/** A rate-limit decision made in this process because the shared store was unreachable (failOpen). */
export function isLocalRateDecision(e: { name: string; attributes?: Record<string, unknown> }): boolean {
  return (
    (e.name === "agentwarden.rate.admit" || e.name === "agentwarden.rate.limited") &&
    e.attributes?.["agentwarden.rate.local"] === true
  );
}
