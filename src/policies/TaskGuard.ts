import { AgentWardenError } from "../errors.js";
import type { Run } from "../run/run.js";
import type { Step } from "../run/step.js";
import type { TokenUsage } from "../run/usage.js";
import type { ReserveLine } from "../state/StateStore.js";
import { isStateUnavailable } from "../state/StateStore.js";
import { own } from "../tables.js";
import type { BreakersConfig, TripAction } from "./BreakersConfig.js";
import { type BudgetContext, budgetKey, rateKey, type SharedBudget } from "./budgetStore.js";
import type { Limits } from "./limits.js";
import { canonical, type Occurrence, RepeatCounter } from "./loops.js";
import { BreakerTripError, type Trip, type TripKind } from "./trip.js";

declare module "../run/types.js" {
  /** `run.guard` is the task's TaskGuard. */
  interface RunTypes {
    guard: TaskGuard;
  }
}

/** What a decision point tells the adapter to do. */
export type Decision =
  | undefined
  | { kind: "abort"; error: BreakerTripError }
  | { kind: "finalize"; trip: Trip }
  | { kind: "hint"; message: string }
  | { kind: "ask"; trip: Trip; payload: BreakerAskPayload };

/** The payload of an `ask` trip's `interrupt()`: the trip and what the task had spent. */
export interface BreakerAskPayload extends Trip {
  agentwarden: "breaker";
  spentUsd: number;
  tokens: number;
}

/** Limits `ask` can raise for a task, by trip kind. */
const RAISABLE: Partial<Record<TripKind, "maxCostUsd" | "maxTokens" | "maxToolCalls">> = {
  cost: "maxCostUsd",
  tokens: "maxTokens",
  tool_calls: "maxToolCalls",
};

/** What a model call is about to send, for the predictive guard. */
export interface ModelCallEstimate {
  model: string;
  /** Input tokens, counted or estimated. */
  inputTokens: number;
  /** The call's own output limit, or the configured default. */
  maxOutputTokens: number;
}

/** What a tool call still waiting resolves to when the task's time runs out under `finalize`. */
const TIME_UP = Symbol("agentwarden.timeUp");

/** The models already reported as missing from the price table, by the Warden's breakers (once each). */
const unpricedReported = new WeakMap<BreakersConfig, Set<string>>();
/** At most this many unpriced models are reported per Warden (names come from the application). */
const MAX_UNPRICED_REPORTED = 1000;

/** The worst case held for a model call admitted and not yet ended. */
interface InFlight {
  usd: number;
  tokens: number;
}

/**
 * The breakers of one task, consulted synchronously (shared budgets asynchronously) at the adapter's
 * decision points: before a node, a nested graph, a model call or a tool call, and after a model
 * call. Knows the ledger, nothing of the framework. The first trip wins; its action is `abort`
 * (the adapter aborts the run's signal with a BreakerTripError), `finalize` (the agent is led to a
 * final answer saying why it stopped) or whatever `onTrip` decides.
 */
export class TaskGuard {
  /** The trip that stopped the task, if any. */
  tripped: Trip | undefined;
  /** True once a `finalize` trip happened: model calls answer with the stop message. */
  finalizing = false;
  /** Set by the adapter: aborts the run (its AbortSignal) with the trip error. */
  abort: ((error: BreakerTripError) => void) | undefined;
  /** Set by the adapter: the last state the graph emitted, attached to the trip error. */
  partialState: (() => unknown) | undefined;
  private nodeStarts = 0;
  private toolCalls = 0;
  private readonly toolCallsByName = new Map<string, number>();
  private readonly repeats: RepeatCounter;
  private readonly nodeInputs: RepeatCounter;
  private readonly hinted = new Set<string>();
  /** Keys already reported as suspected loops (once per key and task). */
  private readonly suspected = new Set<string>();
  /** The loop window's occurrence of each running tool step, to compare its result with the previous call's. */
  private readonly callKeys = new WeakMap<Step, Occurrence>();
  /** The latest result of each recent call key (bounded by the window). */
  private readonly lastResults = new Map<string, string>();
  private spentUsd = 0;
  private tokens = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private error: BreakerTripError | undefined;
  /** The error behind the next trip (a StateUnavailableError under failClosed), as its cause. */
  private tripCause: unknown;
  /** Reservations of model calls in flight against shared budgets, by chat step. */
  private readonly reservations = new Map<Step, { id: string; lines: ReserveLine[]; usd: number }>();
  /**
   * Model calls admitted and not yet ended, with the worst case each may still add: `maxCostUsd` and
   * `maxTokens` count them, so that calls made in parallel cannot together cross a limit that each
   * alone would not. Released when the call's step ends (`endCall`). The first call in flight is
   * held in fields (the usual case, one call at a time, costs no map); more, by chat step, in the map.
   */
  private inFlightCalls = 0;
  private inFlightUsd = 0;
  private inFlightTokens = 0;
  private soloStep: Step | undefined;
  private soloUsd = 0;
  private soloTokens = 0;
  private readonly inFlight = new Map<Step, InFlight>();
  /** Tool calls waiting under `untilTimeUp`, and what answers them when the time runs out. */
  private waitingTools = 0;
  private timeUpLatch: { promise: Promise<typeof TIME_UP>; open: () => void } | undefined;

  constructor(
    readonly run: Run,
    /** The task's limits; an approved `ask` raises one of them (a copy: the Warden's stay as they are). */
    public limits: Limits,
    private readonly config: BreakersConfig,
    private readonly context: BudgetContext,
  ) {
    const loops = config.loops;
    this.repeats = new RepeatCounter(loops ? loops.window : 1);
    this.nodeInputs = new RepeatCounter(loops ? loops.window : 1);
    if (limits.maxDurationMs !== undefined) {
      const ms = limits.maxDurationMs;
      this.timer = setTimeout(() => this.timeUp(ms), ms);
      // Not unref'd: while the task is open its limit keeps the process alive, so that a process
      // with nothing else to do (a tool awaiting what never comes) trips and records the task
      // instead of exiting with it open. `dispose()` clears it when the task ends.
    }
  }

  /** The task's priced cost so far (what the guard has seen). */
  get spent(): number {
    return this.spentUsd;
  }

  /** The error of an `abort` trip, once there is one. */
  get tripError(): BreakerTripError | undefined {
    return this.error;
  }

  /**
   * True when a breaker of this task can stop it (a limit, a shared budget, loops with `stop`):
   * only then does the adapter give the run an AbortSignal of its own.
   */
  get canStop(): boolean {
    return (
      Object.values(this.limits).some((v) => v !== undefined) ||
      this.config.sharedBudgets.length > 0 ||
      this.config.rateLimits.length > 0 ||
      (this.config.loops !== false && this.config.loops.stop)
    );
  }

  /** Stops the wall-time timer. Called when the task ends. */
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    // Calls that never reported (they failed): their reservations end, nothing was spent.
    for (const [step, r] of this.reservations) this.settle(step, r, 0);
    this.reservations.clear();
    // Model calls still running (an aborted task's parallel branches) release theirs as they end:
    // what they spend still reaches the trip's data.
  }

  /**
   * A model call's step ended (called by the ledger for every chat step, whatever its status):
   * the worst case it held is released; what it really used is counted by `afterModel`.
   */
  endCall(step: Step): void {
    if (this.inFlightCalls === 0) return;
    let usd: number;
    let tokens: number;
    if (step === this.soloStep) {
      usd = this.soloUsd;
      tokens = this.soloTokens;
      this.soloStep = undefined;
    } else {
      const held = this.inFlight.get(step);
      if (held === undefined) return;
      this.inFlight.delete(step);
      usd = held.usd;
      tokens = held.tokens;
    }
    if (--this.inFlightCalls === 0) {
      // Exactly nothing in flight, whatever rounding the sums gathered.
      this.inFlightUsd = 0;
      this.inFlightTokens = 0;
    } else {
      this.inFlightUsd -= usd;
      this.inFlightTokens -= tokens;
    }
    const data = this.error?.data;
    if (data?.inFlightUsd !== undefined) data.inFlightUsd = this.inFlightUsd;
  }

  /** Holds a model call's worst case until its step ends. */
  private admit(step: Step, usd: number, tokens: number): void {
    if (this.inFlightCalls > 0) this.endCall(step); // a call checked again (an approved `ask`) holds its worst case once
    if (this.soloStep === undefined) {
      this.soloStep = step;
      this.soloUsd = usd;
      this.soloTokens = tokens;
    } else this.inFlight.set(step, { usd, tokens });
    this.inFlightCalls++;
    this.inFlightUsd += usd;
    this.inFlightTokens += tokens;
  }

  /**
   * The time limit passed. `abort` stops the run through its signal, whatever it waits on.
   * `finalize` can answer for tool calls still waiting (`untilTimeUp`: they get the stop message and
   * the agent its final answer); when the task waits on anything else — a model call, a node's own
   * work — nothing would ever reach a decision point, so the time trip aborts instead.
   */
  private timeUp(ms: number): void {
    this.timer = undefined;
    if (this.error) return;
    const answerable = this.waitingTools > 0 && this.inFlightCalls === 0;
    const earlier = this.tripped;
    if (earlier === undefined) {
      const trip: Trip = {
        kind: "time",
        limit: ms,
        observed: ms,
        overshoot: 0,
        reason: `the task ran for its ${ms} ms limit`,
      };
      const action = this.actionFor(trip);
      if (action === "continue") return;
      if (action !== "finalize" || !answerable) {
        this.record(this.run.root, trip, "abort");
        return;
      }
      this.record(this.run.root, trip, "finalize");
    } else if (!answerable) {
      // Finalizing after an earlier trip, and still waiting on what cannot be answered for.
      this.stop(earlier);
      return;
    }
    this.timeUpLatch?.open();
  }

  /**
   * A tool call's run, raced with the task's time limit when a trip may `finalize`: if the time runs
   * out while it waits, it resolves instead to a mark that `timeUpOf` turns into the trip whose stop
   * message answers the call (its own result, should it ever come, is dropped). The run itself
   * otherwise.
   */
  untilTimeUp(work: Promise<unknown>): Promise<unknown> {
    if (this.timer === undefined || (this.config.action !== "finalize" && this.config.onTrip === undefined))
      return work;
    let latch = this.timeUpLatch;
    if (latch === undefined) {
      let open!: () => void;
      const promise = new Promise<typeof TIME_UP>((resolve) => {
        open = () => resolve(TIME_UP);
      });
      latch = { promise, open };
      this.timeUpLatch = latch;
    }
    this.waitingTools++;
    const done = () => {
      this.waitingTools--;
    };
    work.then(done, done);
    return Promise.race([work, latch.promise]);
  }

  /** The trip that answers a tool call cut short by the time limit (`untilTimeUp`), or undefined. */
  timeUpOf(output: unknown): Trip | undefined {
    return output === TIME_UP ? this.tripped : undefined;
  }

  beforeGraph(step: Step): Decision {
    const max = this.limits.maxDepth;
    if (max === undefined) return this.pending();
    let depth = 0;
    for (let p = step.parent; p; p = p.parent) if (p.kind === "agent" || p.kind === "workflow") depth++;
    if (depth > max) {
      return this.trip(step, {
        kind: "depth",
        limit: max,
        observed: depth,
        overshoot: depth - max,
        reason: `graphs nested ${depth} deep, the limit is ${max}`,
        subject: step.name,
      });
    }
    return this.pending();
  }

  beforeNode(step: Step, input?: unknown): Decision {
    this.nodeStarts++;
    const max = this.limits.maxSteps;
    if (max !== undefined && this.nodeStarts > max) {
      return this.trip(step, {
        kind: "steps",
        limit: max,
        observed: this.nodeStarts,
        overshoot: 0,
        reason: `${this.nodeStarts} node executions, the limit is ${max}`,
        subject: step.name,
      });
    }
    const loops = this.config.loops;
    if (loops && loops.stateCycles && input !== undefined) {
      const key = `${step.name}\u0000${canonical(input)}`;
      const n = this.nodeInputs.add(key);
      if (n >= loops.repeats && !loops.stop) this.suspect(step, step.name, n, `node\u0000${key}`);
      else if (n >= loops.repeats) {
        return this.trip(step, {
          kind: "loop",
          limit: loops.repeats,
          observed: n,
          overshoot: 0,
          reason: `node ${step.name} entered ${n} times with the same state: no progress`,
          subject: step.name,
        });
      }
    }
    return this.pending();
  }

  /** True when a limit needs the worst case of each model call (cost, tokens, shared budgets). */
  get wantsEstimate(): boolean {
    return (
      this.limits.maxCostUsd !== undefined ||
      this.limits.maxTokens !== undefined ||
      this.config.sharedBudgets.length > 0 ||
      this.config.rateLimits.length > 0
    );
  }

  /**
   * Before a model call: refuses the call whose worst-case cost or tokens would cross a limit.
   * Synchronous unless a shared budget has to ask its store.
   */
  beforeModel(step: Step, estimate: ModelCallEstimate | undefined): Decision | Promise<Decision> {
    const pending = this.pending();
    if (pending || this.finalizing) return pending ?? { kind: "finalize", trip: this.tripped as Trip };
    if (!estimate) {
      // A time limit asks whether a model call is in flight when it runs out.
      if (this.timer !== undefined) this.admit(step, 0, 0);
      return undefined;
    }
    // The calls already admitted and still running may each spend up to their worst case: counted,
    // so that calls made in parallel (a fan-out) cannot together cross the limit.
    const worstTokens = estimate.inputTokens + estimate.maxOutputTokens;
    const maxTokens = this.limits.maxTokens;
    if (maxTokens !== undefined && this.tokens + this.inFlightTokens + worstTokens > maxTokens) {
      const held = this.inFlightTokens;
      return this.trip(step, {
        kind: "tokens",
        limit: maxTokens,
        observed: this.tokens + held + worstTokens,
        overshoot: Math.max(0, this.tokens - maxTokens),
        reason: `${this.tokens} tokens used${held > 0 ? ` and up to ${held} more by ${this.inFlightCalls} call${this.inFlightCalls === 1 ? "" : "s"} in flight` : ""}; the next call may use ${worstTokens} more, over the ${maxTokens} limit`,
        subject: estimate.model,
      });
    }
    const worstUsd = this.config.prices.cost(estimate.model, {
      input: estimate.inputTokens,
      output: estimate.maxOutputTokens,
    });
    const maxCost = this.limits.maxCostUsd;
    if (worstUsd === undefined) {
      if (maxCost !== undefined || this.config.sharedBudgets.length > 0) this.unpriced(estimate.model);
    } else if (maxCost !== undefined && this.spentUsd + this.inFlightUsd + worstUsd > maxCost) {
      const held = this.inFlightUsd;
      return this.trip(step, {
        kind: "cost",
        limit: maxCost,
        observed: this.spentUsd + held + worstUsd,
        overshoot: Math.max(0, this.spentUsd - maxCost),
        reason: `$${this.spentUsd.toFixed(6)} spent${held > 0 ? ` and up to $${held.toFixed(6)} more by ${this.inFlightCalls} call${this.inFlightCalls === 1 ? "" : "s"} in flight` : ""}; the next call may cost up to $${worstUsd.toFixed(6)}, over the $${maxCost} budget`,
        subject: estimate.model,
      });
    }
    this.admit(step, worstUsd ?? 0, worstTokens);
    const shared = this.config.sharedBudgets.length > 0 && worstUsd !== undefined;
    if (this.config.rateLimits.length > 0) {
      return this.checkRateLimits(step, estimate.model, worstTokens).then((d) =>
        d || !shared ? d : this.checkShared(step, worstUsd),
      );
    }
    if (!shared) return undefined;
    return this.checkShared(step, worstUsd);
  }

  /**
   * A model with no price: `maxCostUsd` and shared budgets cannot count its calls. Reported once
   * per model and Warden through `onError` (source `prices`), never thrown.
   */
  private unpriced(model: string): void {
    let seen = unpricedReported.get(this.config);
    if (seen === undefined) {
      seen = new Set();
      unpricedReported.set(this.config, seen);
    }
    if (seen.has(model) || seen.size >= MAX_UNPRICED_REPORTED) return;
    seen.add(model);
    this.run.warden.reportError(
      new AgentWardenError(
        "UNPRICED_MODEL",
        `agentwarden: model "${model}" has no price in the price table, so maxCostUsd and shared budgets cannot count its calls (their cost is unknown); give it one with the Warden's option prices: { "${model}": { input, output } } (USD per million tokens)`,
        { model },
      ),
      "prices",
    );
  }

  private checkShared(step: Step, worstUsd: number): Decision | Promise<Decision> {
    return this.config.budgetStore.reserve
      ? this.reserveShared(step, worstUsd)
      : this.checkSharedBudgets(step, worstUsd);
  }

  /**
   * Reserves the call's worst case against every shared budget that applies, in one atomic step of
   * the store, so that concurrent workers cannot together spend past a budget.
   */
  private async reserveShared(step: Step, worstUsd: number): Promise<Decision> {
    const budgets: SharedBudget[] = [];
    const lines: ReserveLine[] = [];
    const context = { ...this.context, task: this.run.id };
    for (const budget of this.config.sharedBudgets) {
      const key = budgetKey(budget, context);
      if (key === undefined) continue;
      budgets.push(budget);
      lines.push({ key: `${budget.name}\u0000${key}`, limit: budget.maxCostUsd, windowMs: budget.windowMs });
    }
    if (lines.length === 0) return undefined;
    const id = `${this.run.id}:${step.id}`;
    const started = performance.now();
    const store = this.config.budgetStore;
    let result: Awaited<ReturnType<NonNullable<typeof store.reserve>>>;
    try {
      result = await (store.reserve as NonNullable<typeof store.reserve>).call(
        store,
        id,
        lines,
        worstUsd,
        Date.now(),
        this.config.reservationTtlMs,
      );
    } catch (error) {
      if (!isStateUnavailable(error)) throw error;
      step.addEvent("agentwarden.budget.reserve", {
        "agentwarden.budget.outcome": "unavailable",
        "agentwarden.budget.reserved_usd": worstUsd,
        "agentwarden.budget.latency_ms": performance.now() - started,
      });
      this.figures.unavailable++;
      this.tripCause = error;
      return this.trip(step, {
        kind: "state_unavailable",
        limit: 0,
        observed: 0,
        overshoot: 0,
        reason: `${error.message}`,
        subject: budgets[0]?.name,
      });
    }
    const latency = performance.now() - started;
    if (result.local) this.figures.local++;
    if (result.ok) {
      this.figures.reservations++;
      this.reservations.set(step, { id, lines, usd: worstUsd });
      step.addEvent("agentwarden.budget.reserve", {
        "agentwarden.budget.outcome": result.local ? "reserved_local" : "reserved",
        "agentwarden.budget.reserved_usd": worstUsd,
        "agentwarden.budget.budgets": lines.length,
        "agentwarden.budget.latency_ms": latency,
      });
      return undefined;
    }
    this.figures.refusals++;
    const budget = budgets[result.index] as SharedBudget;
    const key = (lines[result.index] as ReserveLine).key.slice(budget.name.length + 1);
    const used = result.spent + result.reserved;
    step.addEvent("agentwarden.budget.reserve", {
      "agentwarden.budget.outcome": result.local ? "refused_local" : "refused",
      "agentwarden.budget.reserved_usd": worstUsd,
      "agentwarden.budget.name": budget.name,
      "agentwarden.budget.spent_usd": result.spent,
      "agentwarden.budget.in_flight_usd": result.reserved,
      "agentwarden.budget.latency_ms": latency,
    });
    return this.trip(step, {
      kind: "shared_budget",
      limit: budget.maxCostUsd,
      observed: used + worstUsd,
      overshoot: Math.max(0, result.spent - budget.maxCostUsd),
      reason: `budget ${budget.name} for ${key}: $${result.spent.toFixed(6)} spent in its window and $${result.reserved.toFixed(6)} reserved by calls in flight; the next call may cost up to $${worstUsd.toFixed(6)}, over $${budget.maxCostUsd}`,
      subject: budget.name,
    });
  }

  /** Ends a call's reservation at its actual cost (fire and forget from dispose). */
  private settle(step: Step, r: { id: string; lines: ReserveLine[]; usd: number }, actual: number): Promise<void> {
    const store = this.config.budgetStore;
    // The adapter ends a model call's step before reporting its usage: the settlement then goes on
    // the task's root span, naming the call.
    const target = step.endTime === undefined ? step : this.run.root;
    target.addEvent("agentwarden.budget.settle", {
      "agentwarden.budget.reserved_usd": r.usd,
      "agentwarden.budget.actual_usd": actual,
      ...(target !== step ? { "agentwarden.budget.call": step.name } : {}),
    });
    return Promise.resolve()
      .then(() => store.settle?.(r.id, r.lines, actual, Date.now()))
      .catch((error: unknown) => {
        if (!isStateUnavailable(error)) this.run.warden.reportError(error, "breakers");
      });
  }

  /** Requests and tokens per minute: waits for room up to `maxWaitMs`, then trips. */
  private async checkRateLimits(step: Step, model: string, worstTokens: number): Promise<Decision> {
    const store = this.config.state;
    for (const limit of this.config.rateLimits) {
      const key = rateKey(limit, this.context, model);
      if (key === undefined) continue;
      const wanted: Array<[string, number, number]> = [];
      if (limit.requestsPerMinute !== undefined) wanted.push(["requests", 1, limit.requestsPerMinute]);
      if (limit.tokensPerMinute !== undefined) wanted.push(["tokens", worstTokens, limit.tokensPerMinute]);
      for (const [what, cost, perMinute] of wanted) {
        const started = performance.now();
        let waited = 0;
        for (;;) {
          let taken: Awaited<ReturnType<typeof store.take>>;
          try {
            taken = await store.take(
              `rate\u0000${limit.name}\u0000${what}\u0000${key}`,
              cost,
              perMinute,
              60_000,
              Date.now(),
            );
          } catch (error) {
            if (!isStateUnavailable(error)) throw error;
            step.addEvent("agentwarden.rate.unavailable", {
              "agentwarden.rate.name": limit.name,
              "agentwarden.rate.unit": what,
            });
            this.figures.unavailable++;
            this.tripCause = error;
            return this.trip(step, {
              kind: "state_unavailable",
              limit: 0,
              observed: 0,
              overshoot: 0,
              reason: error.message,
              subject: limit.name,
            });
          }
          if (taken.local) this.figures.local++;
          if (taken.ok) {
            step.addEvent("agentwarden.rate.admit", {
              "agentwarden.rate.name": limit.name,
              "agentwarden.rate.unit": what,
              "agentwarden.rate.waited_ms": performance.now() - started,
              // Decided in this process (failOpen, the shared store unreachable): a fallback.
              ...(taken.local ? { "agentwarden.rate.local": true } : {}),
            });
            break;
          }
          const maxWait = limit.maxWaitMs ?? 0;
          if (waited + taken.retryAfterMs > maxWait) {
            this.figures.rateLimited++;
            step.addEvent("agentwarden.rate.limited", {
              "agentwarden.rate.name": limit.name,
              "agentwarden.rate.unit": what,
              "agentwarden.rate.retry_after_ms": taken.retryAfterMs,
              ...(taken.local ? { "agentwarden.rate.local": true } : {}),
            });
            return this.trip(step, {
              kind: "rate_limit",
              limit: perMinute,
              observed: cost,
              overshoot: 0,
              reason: `rate limit ${limit.name} for ${key}: ${perMinute} ${what} per minute reached; room in ${Math.ceil(taken.retryAfterMs)} ms, more than the ${maxWait} ms it may wait`,
              subject: limit.name,
            });
          }
          const wait = Math.max(1, Math.ceil(taken.retryAfterMs));
          waited += wait;
          await new Promise((r) => setTimeout(r, wait));
        }
      }
    }
    return undefined;
  }

  /** What this task's shared-state decisions did: reservations, refusals, local fallbacks. */
  readonly figures = { reservations: 0, refusals: 0, local: 0, unavailable: 0, rateLimited: 0 };

  private async checkSharedBudgets(step: Step, worstUsd: number): Promise<Decision> {
    for (const budget of this.config.sharedBudgets) {
      const key = budgetKey(budget, this.context);
      if (key === undefined) continue;
      const spent = await this.config.budgetStore.spent(`${budget.name}\u0000${key}`, budget.windowMs, Date.now());
      if (spent + worstUsd > budget.maxCostUsd) {
        return this.trip(step, {
          kind: "shared_budget",
          limit: budget.maxCostUsd,
          observed: spent + worstUsd,
          overshoot: Math.max(0, spent - budget.maxCostUsd),
          reason: `budget ${budget.name} for ${key}: $${spent.toFixed(6)} spent in its window; the next call may cost up to $${worstUsd.toFixed(6)}, over $${budget.maxCostUsd}`,
          subject: budget.name,
        });
      }
    }
    return undefined;
  }

  /** After a model call: counts what it really used and spent (and records it in shared budgets). */
  afterModel(step: Step, model: string, usage: TokenUsage | undefined): Decision | Promise<Decision> {
    this.endCall(step);
    const reservation = this.reservations.get(step);
    if (reservation) this.reservations.delete(step);
    if (!usage) {
      // Unknown usage: the worst case reserved stands as spent.
      if (reservation) return this.settle(step, reservation, reservation.usd).then(() => this.pending());
      return this.pending();
    }
    this.tokens += usage.input + usage.output;
    const cost = this.config.prices.cost(model, usage) ?? 0;
    this.spentUsd += cost;
    // A call in flight when the task tripped answers after it: the trip's data keeps up.
    if (this.error) this.spentSince(this.error);
    const decision = this.checkSpent(step, model);
    if (reservation) return this.settle(step, reservation, cost).then(() => decision);
    if (this.config.sharedBudgets.length === 0 || cost <= 0) return decision;
    return this.recordShared(cost).then(() => decision);
  }

  private async recordShared(cost: number): Promise<void> {
    for (const budget of this.config.sharedBudgets) {
      const key = budgetKey(budget, this.context);
      if (key !== undefined)
        await this.config.budgetStore.add(`${budget.name}\u0000${key}`, cost, Date.now(), budget.windowMs);
    }
  }

  /** Brings an abort trip's figures up to what the task has spent since (calls that were in flight). */
  private spentSince(error: BreakerTripError): void {
    const data = error.data;
    data.spentUsd = this.spentUsd;
    if (data.kind === "cost") data.overshoot = Math.max(0, this.spentUsd - data.limit);
    else if (data.kind === "tokens") data.overshoot = Math.max(0, this.tokens - data.limit);
  }

  private checkSpent(step: Step, model: string): Decision {
    const maxCost = this.limits.maxCostUsd;
    if (maxCost !== undefined && this.spentUsd > maxCost) {
      return this.trip(step, {
        kind: "cost",
        limit: maxCost,
        observed: this.spentUsd,
        overshoot: this.spentUsd - maxCost,
        reason: `$${this.spentUsd.toFixed(6)} spent, over the $${maxCost} budget`,
        subject: model,
      });
    }
    const maxTokens = this.limits.maxTokens;
    if (maxTokens !== undefined && this.tokens > maxTokens) {
      return this.trip(step, {
        kind: "tokens",
        limit: maxTokens,
        observed: this.tokens,
        overshoot: this.tokens - maxTokens,
        reason: `${this.tokens} tokens used, over the ${maxTokens} limit`,
        subject: model,
      });
    }
    return this.pending();
  }

  beforeTool(step: Step, tool: string, args: unknown): Decision {
    const pending = this.pending();
    if (pending) return pending;
    if (this.finalizing) return { kind: "finalize", trip: this.tripped as Trip };
    this.toolCalls++;
    const n = (this.toolCallsByName.get(tool) ?? 0) + 1;
    this.toolCallsByName.set(tool, n);
    const max = this.limits.maxToolCalls;
    if (max !== undefined && this.toolCalls > max) {
      return this.trip(step, {
        kind: "tool_calls",
        limit: max,
        observed: this.toolCalls,
        overshoot: 0,
        reason: `${this.toolCalls} tool calls, the limit is ${max}`,
        subject: tool,
      });
    }
    const perTool = this.limits.maxToolCallsPerTool;
    const maxForTool = own(perTool, tool) ?? own(perTool, "*");
    if (maxForTool !== undefined && n > maxForTool) {
      return this.trip(step, {
        kind: "tool_calls_per_tool",
        limit: maxForTool,
        observed: n,
        overshoot: 0,
        reason: `${n} calls of ${tool}, the limit is ${maxForTool}`,
        subject: tool,
      });
    }
    const loops = this.config.loops;
    if (loops) {
      const key = `${tool}\u0000${canonical(args, loops.nearDuplicates)}`;
      // Counted once it has returned: identical calls made in parallel have not seen each other's result.
      const occurrence = this.repeats.open(key);
      this.callKeys.set(step, occurrence);
      const count = this.repeats.repeats(occurrence);
      if (count >= loops.repeats && !loops.stop) this.suspect(step, tool, count, `tool\u0000${key}`);
      else if (count >= loops.repeats) {
        if (loops.hint && !this.hinted.has(key)) {
          this.hinted.add(key);
          // Answered (with the hint): the agent repeated itself once more, and that counts.
          this.repeats.close(occurrence);
          this.callKeys.delete(step);
          step.addEvent("agentwarden.loop.hint", { "gen_ai.tool.name": tool, repeats: count });
          return {
            kind: "hint",
            message: `You have called ${tool} with the same arguments ${count} times in this task; calling it again will not give a different result, so it was not run. Use the results you already have, change the arguments meaningfully, or give your final answer.`,
          };
        }
        return this.trip(step, {
          kind: "loop",
          limit: loops.repeats,
          observed: count,
          overshoot: 0,
          reason: `${tool} called ${count} times with the same arguments`,
          subject: tool,
        });
      }
    }
    return undefined;
  }

  /**
   * After a tool call that ran: its result. A result that differs from the previous identical
   * call's is progress (a job being polled moved on), so the earlier calls stop counting.
   */
  afterTool(step: Step, result: unknown): void {
    const occurrence = this.callKeys.get(step);
    if (occurrence === undefined || !this.config.loops) return;
    this.callKeys.delete(step);
    this.repeats.close(occurrence);
    const key = occurrence.key;
    const seen = canonical(result, this.config.loops.nearDuplicates);
    const previous = this.lastResults.get(key);
    this.lastResults.delete(key);
    this.lastResults.set(key, seen);
    if (this.lastResults.size > this.config.loops.window) {
      const oldest = this.lastResults.keys().next().value;
      if (oldest !== undefined) this.lastResults.delete(oldest);
    }
    if (previous !== undefined && previous !== seen) this.repeats.restart(occurrence);
  }

  /** Reports a suspected loop once per key: an event on the step and the task, a count in the summary. */
  private suspect(step: Step, subject: string, repeats: number, key: string): void {
    if (this.suspected.has(key)) return;
    this.suspected.add(key);
    const counts = this.run.suspectedLoops;
    counts[subject] = (counts[subject] ?? 0) + 1;
    const attributes: Record<string, string | number> = {
      [step.kind === "tool" ? "gen_ai.tool.name" : "gen_ai.node.name"]: subject,
      repeats,
    };
    step.addEvent("agentwarden.loop.suspected", attributes);
    if (step !== this.run.root) this.run.root.addEvent("agentwarden.loop.suspected", attributes);
  }

  /**
   * Carries a paused task's spending over into its resumption (the same thread resumed after an
   * `ask` trip), so the same limit trips again and the reviewer's answer applies to it: its cost
   * and tokens, and for a tool-call trip the calls made before the one asked about (LangGraph runs
   * the interrupted node again, so that call is counted again and trips again).
   */
  carryOver(spent: { spentUsd?: unknown; tokens?: unknown; kind?: unknown; observed?: unknown }): void {
    if (typeof spent.spentUsd === "number" && Number.isFinite(spent.spentUsd) && spent.spentUsd > 0)
      this.spentUsd += spent.spentUsd;
    if (typeof spent.tokens === "number" && Number.isSafeInteger(spent.tokens) && spent.tokens > 0)
      this.tokens += spent.tokens;
    if (
      spent.kind === "tool_calls" &&
      typeof spent.observed === "number" &&
      Number.isSafeInteger(spent.observed) &&
      spent.observed > 1
    )
      this.toolCalls += spent.observed - 1;
  }

  /**
   * A reviewer's answer to an `ask` trip: approval raises the tripped limit for this task (to `limit`
   * when it is above what was observed, else to twice the limit, at least the observed value);
   * rejection trips as `abort` does. Returns the decision to carry out (undefined: go on).
   */
  answer(step: Step, trip: Trip, approved: boolean, limit?: unknown): Decision {
    const field = RAISABLE[trip.kind];
    if (!approved || !field) return this.trip(step, trip, "abort");
    const raised =
      typeof limit === "number" && Number.isFinite(limit) && limit > trip.observed
        ? limit
        : Math.max(trip.limit * 2, trip.observed);
    this.limits = { ...this.limits, [field]: raised };
    const attributes = { kind: trip.kind, limit: trip.limit, raised };
    step.addEvent("agentwarden.breaker.raised", attributes);
    if (step !== this.run.root) this.run.root.addEvent("agentwarden.breaker.raised", attributes);
    return undefined;
  }

  /** The decision of an earlier trip, repeated at every later decision point. */
  private pending(): Decision {
    if (this.error) return { kind: "abort", error: this.error };
    return undefined;
  }

  /** Records a trip (once per task) and decides what it does (`forced`: a reviewer's rejection). */
  trip(step: Step, trip: Trip, forced?: TripAction): Decision {
    if (this.tripped)
      return this.error ? { kind: "abort", error: this.error } : { kind: "finalize", trip: this.tripped };
    const action = forced ?? this.actionFor(trip);
    if (action === "continue") return undefined;
    return this.record(step, trip, action);
  }

  /** What a trip does: `onTrip`'s answer when it is a function (the configured action if it throws). */
  private actionFor(trip: Trip): TripAction | "continue" {
    if (!this.config.onTrip) return this.config.action;
    try {
      return this.config.onTrip(trip, this.run);
    } catch (error) {
      this.run.warden.reportError(error, "onTrip");
      return this.config.action;
    }
  }

  /** Records a trip and carries out its action. */
  private record(step: Step, trip: Trip, requested: TripAction): Decision {
    let action = requested;
    // Only limits a task can raise are asked about; a loop or a shared budget stops as `abort` does.
    if (action === "ask" && RAISABLE[trip.kind]) {
      const attributes = { kind: trip.kind, limit: trip.limit, observed: trip.observed, action: "ask" };
      step.addEvent("agentwarden.breaker.ask", attributes);
      if (step !== this.run.root) this.run.root.addEvent("agentwarden.breaker.ask", attributes);
      return {
        kind: "ask",
        trip,
        payload: { agentwarden: "breaker", ...trip, spentUsd: this.spentUsd, tokens: this.tokens },
      };
    }
    if (action === "ask") action = "abort";
    this.tripped = trip;
    this.run.trips[trip.kind] = (own(this.run.trips, trip.kind) ?? 0) + 1;
    const attributes = {
      kind: trip.kind,
      limit: trip.limit,
      observed: trip.observed,
      overshoot: trip.overshoot,
      // Recorded like an error message: it may name a tenant or thread (a shared budget's key).
      reason: this.run.warden.redactText("error.message", trip.reason),
      action: action === "finalize" ? "finalize" : "abort",
    };
    step.addEvent("agentwarden.breaker.trip", attributes);
    if (step !== this.run.root) this.run.root.addEvent("agentwarden.breaker.trip", attributes);
    if (action === "finalize") {
      this.finalizing = true;
      return { kind: "finalize", trip };
    }
    return { kind: "abort", error: this.stop(trip) };
  }

  /** Stops the run with the trip's error: through its signal, with the partial state attached. */
  private stop(trip: Trip): BreakerTripError {
    let partialState: unknown;
    try {
      partialState = this.partialState?.();
    } catch {
      partialState = undefined;
    }
    this.error = new BreakerTripError(
      {
        ...trip,
        runId: this.run.id,
        spentUsd: this.spentUsd,
        ...(this.inFlightCalls > 0 ? { inFlightUsd: this.inFlightUsd } : {}),
        ...(partialState !== undefined ? { partialState } : {}),
      },
      this.tripCause === undefined ? undefined : { cause: this.tripCause },
    );
    this.tripCause = undefined;
    this.abort?.(this.error);
    return this.error;
  }
}

export type { TripKind };
