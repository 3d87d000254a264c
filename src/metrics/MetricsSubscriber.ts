import type { MeterProvider } from "@opentelemetry/api";
import type { Run } from "../run/run.js";
import type { Step } from "../run/step.js";
import type { Subscriber } from "../subscriber.js";
import { Instruments } from "./instruments.js";
import { OTHER_KEY } from "./NameCap.js";
import {
  addModelFigures,
  addToolFigures,
  emptyModelFigures,
  emptyToolFigures,
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
  private readonly instruments: Instruments | undefined;

  constructor(
    private readonly config: MetricsConfig,
    clock: () => number = Date.now,
  ) {
    this.lastTasks = new TaskWindow(config.windowTasks);
    this.lastSeconds = new TimeWindow(config.windowSeconds, 60, clock);
    // With no MeterProvider registered the API's is a no-op: skip building attributes for nothing.
    const provider = config.meterProvider;
    const noop = provider?.constructor?.name === "NoopMeterProvider";
    this.instruments =
      provider && !noop ? new Instruments(provider, config.maxKeys, config.invocationDuration) : undefined;
  }

  onStepEnd(step: Step): void {
    this.instruments?.recordStep(step);
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
    this.instruments?.recordTask(s);
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
