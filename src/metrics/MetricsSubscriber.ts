import type { MeterProvider } from "@opentelemetry/api";
import { addScore, emptyScoreStats, type ScoreFigures, type ScoreStats, scoreFigures } from "../quality/scores.js";
import { type VersionFigures, VersionTable } from "../quality/versions.js";
import type { Run } from "../run/run.js";
import type { Step } from "../run/step.js";
import type { EvalRecord } from "../store/records.js";
import type { Subscriber } from "../subscriber.js";
import { Instruments } from "./instruments.js";
import { OTHER_KEY } from "./NameCap.js";
import {
  addModelFigures,
  addToolFigures,
  emptyModelFigures,
  emptyToolFigures,
  isLocalRateDecision,
  type ModelFigures,
  type NodeFigures,
  type TaskSummary,
  type ToolFigures,
} from "./summary.js";
import { addTask, emptyTotals, type Figures, figures, type Totals } from "./totals.js";
import { TaskWindow, TimeWindow } from "./windows.js";

export interface MetricsConfig {
  windowTasks: number;
  windowSeconds: number;
  maxKeys: number;
  meterProvider: MeterProvider | undefined;
  /** Which agent/workflow duration metric (`WardenOptions.semconv.invocationDuration`). Default `split`. */
  invocationDuration?: "split" | "invocation";
}

/** Per-tool figures with the tool's own ERR and success rate. */
export interface ToolSnapshot extends ToolFigures {
  err: number | null;
  successRate: number | null;
}

export interface ModelSnapshot extends ModelFigures {
  err: number | null;
}

/** The agent metrics at one moment: cumulative, over two sliding windows, and per agent/tool/model/node. */
export interface MetricsSnapshot {
  cumulative: Figures;
  /** The last `size` tasks. */
  lastTasks: Figures & { size: number };
  /** Tasks that ended in the last `seconds`. */
  lastSeconds: Figures & { seconds: number };
  byAgent: Record<string, Figures>;
  byTool: Record<string, ToolSnapshot>;
  byModel: Record<string, ModelSnapshot>;
  byNode: Record<string, NodeFigures>;
  /** Per prompt or agent version (`(none)` for tasks without one): the metrics and evaluation results. */
  byVersion: Record<string, VersionFigures>;
  /** Evaluation results (online evaluators, user feedback) by evaluator name, over every version. */
  evals: Record<string, ScoreFigures>;
  /** Judge cost of online evaluations in USD: beside the agents' own cost, not in it. */
  evalCostUsd: number;
  /** Shared-state decisions before model calls since start (budgets, rate limits; README "Many workers"). */
  fleet: FleetFigures;
}

/** Counts of the shared-state decisions this process made. */
export interface FleetFigures {
  /** Budget reservations made (on the shared store, or locally under failOpen). */
  reservations: number;
  /** Model calls a shared budget refused. */
  refusals: number;
  /** Decisions made on local state because the shared store was unreachable (failOpen). */
  fallbacks: number;
  /** Model calls refused because the shared store was unreachable (failClosed). */
  unavailable: number;
  /** Model calls a rate limit refused. */
  rateLimited: number;
}

export { OTHER_KEY } from "./NameCap.js";

/**
 * Aggregates every task's summary as it ends: counts, not runs, so memory is bounded by the window
 * sizes and the number of distinct agent, tool, model and node names (capped). Also feeds the
 * OpenTelemetry instruments. Tasks are counted whether or not their trace was sampled.
 */
export class MetricsSubscriber implements Subscriber {
  readonly name = "metrics";
  private readonly cumulative: Totals = emptyTotals();
  private readonly lastTasks: TaskWindow;
  private readonly lastSeconds: TimeWindow;
  private readonly agents = new Map<string, Totals>();
  private readonly tools = new Map<string, ToolFigures>();
  private readonly models = new Map<string, ModelFigures>();
  private readonly nodes = new Map<string, NodeFigures>();
  private readonly versions: VersionTable;
  private readonly evals = new Map<string, ScoreStats>();
  private readonly instruments: Instruments | undefined;
  private readonly fleet: FleetFigures = { reservations: 0, refusals: 0, fallbacks: 0, unavailable: 0, rateLimited: 0 };

  constructor(
    private readonly config: MetricsConfig,
    clock: () => number = Date.now,
  ) {
    this.lastTasks = new TaskWindow(config.windowTasks);
    this.lastSeconds = new TimeWindow(config.windowSeconds, 60, clock);
    this.versions = new VersionTable(config.maxKeys);
    // With no MeterProvider registered the API's is a no-op: skip building attributes for nothing.
    const provider = config.meterProvider;
    const noop = provider?.constructor?.name === "NoopMeterProvider";
    this.instruments =
      provider && !noop ? new Instruments(provider, config.maxKeys, config.invocationDuration) : undefined;
  }

  onStepEnd(step: Step): void {
    this.instruments?.recordStep(step);
    if (step.kind === "chat" && step.events) {
      const f = this.fleet;
      for (const e of step.events) {
        if (e.name === "agentwarden.rate.limited") f.rateLimited++;
        if (e.name === "agentwarden.rate.unavailable") f.unavailable++;
        if (isLocalRateDecision(e)) f.fallbacks++;
        if (e.name !== "agentwarden.budget.reserve") continue;
        const outcome = e.attributes?.["agentwarden.budget.outcome"];
        if (outcome === "reserved" || outcome === "reserved_local") f.reservations++;
        if (outcome === "refused" || outcome === "refused_local") f.refusals++;
        if (outcome === "reserved_local" || outcome === "refused_local") f.fallbacks++;
        if (outcome === "unavailable") f.unavailable++;
      }
    }
  }

  onTaskEnd(run: Run): void {
    this.add(run.summary());
  }

  /** Adds one task's summary (also used to replay a run store). */
  add(s: TaskSummary): void {
    addTask(this.cumulative, s);
    this.lastTasks.add(s);
    this.lastSeconds.add(s);
    addTask(this.slot(this.agents, s.agent, emptyTotals), s);
    for (const [name, f] of Object.entries(s.tools)) addToolFigures(this.slot(this.tools, name, emptyToolFigures), f);
    for (const [name, f] of Object.entries(s.models))
      addModelFigures(this.slot(this.models, name, emptyModelFigures), f);
    for (const [name, f] of Object.entries(s.nodes)) {
      const n = this.slot(this.nodes, name, () => ({ runs: 0, failures: 0, durationMs: 0 }));
      n.runs += f.runs;
      n.failures += f.failures;
      n.durationMs += f.durationMs;
    }
    this.versions.addTask(s);
    this.instruments?.recordTask(s);
  }

  /**
   * Adds one evaluation result (an online evaluator's, or user feedback), under `version` (the
   * record's own when not given).
   */
  addEval(r: EvalRecord, version = r.version): void {
    let stats = this.evals.get(r.name);
    if (!stats) {
      const name = this.evals.size >= this.config.maxKeys ? OTHER_KEY : r.name;
      stats = this.evals.get(name) ?? emptyScoreStats();
      this.evals.set(name, stats);
    }
    addScore(stats, r);
    this.versions.addEval(r, version);
    this.instruments?.recordEval(r, version);
  }

  /** Counts a sampled task that online evaluation dropped (`queue_full`, `budget`). */
  evalDropped(reason: string): void {
    this.instruments?.recordEvalDropped(reason);
  }

  snapshot(): MetricsSnapshot {
    const clone = (t: Totals): Totals => structuredClone(t);
    return {
      cumulative: figures(clone(this.cumulative)),
      lastTasks: { ...figures(clone(this.lastTasks.totals)), size: this.config.windowTasks },
      lastSeconds: { ...figures(this.lastSeconds.totals()), seconds: this.config.windowSeconds },
      byAgent: Object.fromEntries([...this.agents].map(([k, t]) => [k, figures(clone(t))])),
      byTool: Object.fromEntries(
        [...this.tools].map(([k, t]) => [
          k,
          { ...t, err: ratio(t.recovered, t.failures), successRate: ratio(t.completed, t.calls) },
        ]),
      ),
      byModel: Object.fromEntries(
        [...this.models].map(([k, m]) => [k, { ...structuredClone(m), err: ratio(m.recovered, m.failures) }]),
      ),
      byNode: Object.fromEntries([...this.nodes].map(([k, n]) => [k, { ...n }])),
      byVersion: this.versions.snapshot(),
      evals: Object.fromEntries([...this.evals].map(([k, e]) => [k, scoreFigures({ ...e })])),
      evalCostUsd: [...this.evals.values()].reduce((sum, e) => sum + e.costUsd, 0),
      fleet: { ...this.fleet },
    };
  }

  private slot<T>(map: Map<string, T>, key: string, make: () => T): T {
    let value = map.get(key);
    if (value) return value;
    const k = map.size >= this.config.maxKeys ? OTHER_KEY : key;
    value = map.get(k);
    if (!value) {
      value = make();
      map.set(k, value);
    }
    return value;
  }
}

function ratio(a: number, b: number): number | null {
  return b > 0 ? a / b : null;
}
