import { metrics } from "@opentelemetry/api";
import { captureText } from "./content.js";
import { LiveRuns } from "./dashboard/LiveRuns.js";
import type { Dashboard } from "./dashboard/server.js";
import { AgentWardenError } from "./errors.js";
import { type FeedbackInput, feedbackRecord } from "./feedback.js";
import { type ErrorHook, Hub } from "./hub.js";
import { MetricsSubscriber } from "./metrics/MetricsSubscriber.js";
import { summarize, type TaskSummary } from "./metrics/summary.js";
import { type ResolvedOptions, resolveOptions, type WardenOptions } from "./options.js";
import type { BreakersConfig } from "./policies/BreakersConfig.js";
import type { BudgetContext } from "./policies/budgetStore.js";
import { MemoryBudgetStore, StateBudgetStore } from "./policies/budgetStore.js";
import { type Limits, mergeLimits } from "./policies/limits.js";
import { SharedToolBreakers } from "./policies/SharedToolBreakers.js";
import { TaskGuard } from "./policies/TaskGuard.js";
import { type ToolBreakerState, ToolBreakers } from "./policies/ToolBreakers.js";
import { PriceTable } from "./pricing/PriceTable.js";
import { OnlineEvaluation } from "./quality/online.js";
import { RecentRuns } from "./quality/recent.js";
import { type ContentField, redactSecrets } from "./redact.js";
import { Run, type RunHost } from "./run/run.js";
import type { GraphInfo, Step } from "./run/step.js";
import { MemoryStateStore } from "./state/MemoryStateStore.js";
import { FileStore } from "./store/FileStore.js";
import type { EvalRecord } from "./store/records.js";
import type { Subscriber } from "./subscriber.js";
import { nullTable, own } from "./tables.js";
import { TracingSubscriber } from "./telemetry/tracing.js";

declare module "./run/types.js" {
  /** `run.warden` is the Warden that created the run. */
  interface RunTypes {
    warden: Warden;
  }
}

/** Counters of a Warden's activity since construction. */
export interface WardenStats {
  tasksStarted: number;
  tasksEnded: number;
  /** Tasks started and not ended: 0 when the process is idle, whatever happened to the tasks. */
  openTasks: number;
  /** Telemetry failures reported through the error hook, by source. */
  telemetryErrors: Readonly<Record<string, number>>;
}

/**
 * Configured once per process (or per agent family): creates one Run per task, feeds the runs'
 * step events to its subscribers (tracing first), and routes every telemetry failure to one error
 * hook. Adapters (`agentwarden/langgraph`) connect frameworks to it.
 */
export class Warden implements RunHost {
  /** @internal */ readonly options: ResolvedOptions;
  /** @internal */ readonly hub: Hub;
  /** The price table tasks are costed with. */
  readonly prices: PriceTable;
  /** The in-process agent metrics (ASF, ERR, CPCS, ...); undefined with `metrics: false`. */
  readonly metrics: MetricsSubscriber | undefined;
  /**
   * The dashboard this process serves (option `dashboard`), once it listens; undefined when it is
   * off or could not listen (reported through `onError`, source `dashboard`).
   */
  readonly dashboard: Promise<Dashboard | undefined> | undefined;
  /** Per-tool circuit breakers across tasks; undefined unless `toolBreaker` is set. */
  readonly toolBreakers: ToolBreakers | SharedToolBreakers | undefined;
  /** Online evaluation (sampled, after the task, off its path); undefined unless `online` is set. */
  readonly online: OnlineEvaluation | undefined;
  /** @internal The run store, when `store` is set. */
  readonly store: FileStore | undefined;
  private readonly recent: RecentRuns | undefined;
  private readonly breakers: BreakersConfig;
  private readonly guarding: boolean;
  private readonly breakerListeners: Array<(tool: string, state: ToolBreakerState) => void> = [];
  private started = 0;
  private ended = 0;
  private readonly errors: Record<string, number> = nullTable();
  private readonly warned = new Set<string>();
  private closed = false;

  constructor(options?: WardenOptions) {
    this.options = resolveOptions(options);
    this.prices = new PriceTable(this.options.prices);
    this.hub = new Hub(this.reportError);
    if (this.options.tracing) this.hub.add(new TracingSubscriber(this.options, this.reportError), true);
    const m = this.options.metrics;
    this.metrics = m
      ? new MetricsSubscriber({
          ...m,
          meterProvider: this.options.meterProvider ?? metrics.getMeterProvider(),
          invocationDuration: this.options.semconv.invocationDuration,
        })
      : undefined;
    if (this.metrics) this.hub.add(this.metrics);
    this.store = this.options.store ? openStore(this.options.store) : undefined;
    if (this.store) this.hub.add(this.store);
    // After the store: a task's evaluation records follow its own line.
    this.online = this.options.online ? new OnlineEvaluation(this, this.options.online) : undefined;
    if (this.online) this.hub.add(this.online);
    this.recent = this.metrics || this.store ? new RecentRuns() : undefined;
    if (this.recent) this.hub.add(this.recent);
    if (this.options.dashboard && this.options.store) {
      const live = new LiveRuns();
      this.hub.add(live);
      this.dashboard = live.serve(this.options.store, this.options.dashboard).catch((error: unknown) => {
        this.reportError(error, "dashboard");
        return undefined;
      });
    }
    const o = this.options;
    this.breakers = {
      action: typeof o.onTrip === "string" ? o.onTrip : "abort",
      onTrip: typeof o.onTrip === "function" ? o.onTrip : undefined,
      loops: o.loops,
      sharedBudgets: o.sharedBudgets,
      budgetStore: o.budgetStore ?? (o.state ? new StateBudgetStore(o.state) : new MemoryBudgetStore()),
      reservationTtlMs: o.reservationTtlMs,
      rateLimits: o.rateLimits,
      state: o.state ?? new MemoryStateStore(),
      prices: this.prices,
      defaultMaxOutputTokens: o.defaultMaxOutputTokens,
    };
    this.guarding =
      o.loops !== false || o.sharedBudgets.length > 0 || o.rateLimits.length > 0 || Object.keys(o.limits).length > 0;
    const notify = (tool: string, state: ToolBreakerState) => {
      for (const l of this.breakerListeners) {
        try {
          l(tool, state);
        } catch (error) {
          this.reportError(error, "onToolBreaker");
        }
      }
    };
    this.toolBreakers = o.toolBreaker
      ? o.state
        ? new SharedToolBreakers(o.toolBreaker, o.state, isErrorToolMessage, notify)
        : new ToolBreakers(o.toolBreaker, isErrorToolMessage, notify)
      : undefined;
  }

  /** Adds a subscriber; returns a function that removes it. */
  use(subscriber: Subscriber): () => void {
    if (typeof subscriber !== "object" || subscriber === null || typeof subscriber.name !== "string") {
      throw new TypeError("agentwarden: use() expects a Subscriber (an object with a string `name`)");
    }
    return this.hub.add(subscriber);
  }

  /** Calls `listener` with each task's Run when the task ends; returns a function that removes it. */
  onTaskEnd(listener: (run: Run) => void): () => void {
    return this.hub.add({ name: "onTaskEnd listener", onTaskEnd: listener });
  }

  /**
   * @internal Opens the ledger of a new task. Adapters call this when a top-level graph run starts.
   */
  startTask(kind: "workflow" | "agent", info: GraphInfo): Run {
    this.started++;
    const run = new Run(this, kind, info.name, this.taskEnded, (step) => {
      step.graph = info;
    });
    if (this.online) run.keepOutput = this.online.wants(run);
    return run;
  }

  /**
   * Attaches a user's judgement to a finished task, by run id or thread id (its latest run):
   * thumbs up or down, a score, a correction, a comment. It is an evaluation result like any
   * other: written to the store (a `feedback` record), counted in the metrics under the run's
   * version. Returns the record. From another process, use `recordFeedback(storePath, input)`.
   */
  feedback(input: FeedbackInput): EvalRecord {
    const run =
      input?.runId !== undefined
        ? this.recent?.byRun(input.runId)
        : input?.threadId !== undefined
          ? this.recent?.latestOf(input.threadId)
          : undefined;
    const record = feedbackRecord(input, run, (text, field) => this.redactText(field, text));
    try {
      this.store?.append(record);
    } catch (error) {
      this.reportError(error, "subscriber:store");
    }
    try {
      this.metrics?.addEval(record);
    } catch (error) {
      this.reportError(error, "subscriber:metrics");
    }
    return record;
  }

  /**
   * @internal The breakers of a new task: the Warden's limits overridden by the invoke's. Undefined
   * when nothing is limited (no limits, no loop detection, no shared budget).
   */
  guard(run: Run, invokeLimits: Limits | undefined, context: BudgetContext): TaskGuard | undefined {
    if (!this.guarding && !invokeLimits) return undefined;
    const guard = new TaskGuard(run, mergeLimits(this.options.limits, invokeLimits), this.breakers, context);
    run.guard = guard;
    return guard;
  }

  /** Calls `listener` when a tool's circuit breaker opens, half-opens or closes; returns a remover. */
  onToolBreaker(listener: (tool: string, state: ToolBreakerState) => void): () => void {
    this.breakerListeners.push(listener);
    return () => {
      const i = this.breakerListeners.indexOf(listener);
      if (i >= 0) this.breakerListeners.splice(i, 1);
    };
  }

  /**
   * @internal Text to keep for an opt-in content field, or undefined when capture is off. The value
   * is serialised, redacted and cut to `maxContentLength`.
   */
  /** @internal A run's figures, priced with this Warden's table and its subtask rule. */
  summarize(run: Run): TaskSummary {
    const o = this.options;
    return summarize(run, this.prices, o.metrics ? o.metrics.subtask : "tool");
  }

  capture(field: ContentField, value: unknown): string | undefined {
    return this.options.captureContent ? this.redactText(field, value) : undefined;
  }

  /** Captured text of recurring sources (a conversation's messages, a bound tool list), by field. */
  private readonly captured = new Map<ContentField, WeakMap<object, { text: string; stamp: unknown }>>();

  /**
   * @internal Captures a value made from `source`, an object that recurs from call to call (a
   * message of the conversation a model is sent again at every turn, the tools bound to it): with
   * the built-in redactor its text is made (serialised, redacted, cut) once per source and field,
   * and `make` runs only then — again if the source no longer matches the stamp `stamper` took of
   * it (what `make` reads, compared by identity). The same text as `capture(field, make(source))`; undefined when
   * `make` gives undefined. A custom redactor is given every value, as `capture` gives it.
   */
  captureOf(
    field: ContentField,
    source: unknown,
    make: (source: unknown) => unknown,
    stamper?: Stamper,
  ): string | undefined {
    if (!this.options.captureContent) return undefined;
    if (this.options.redact !== redactSecrets || typeof source !== "object" || source === null) {
      const value = make(source);
      return value === undefined ? undefined : this.redactText(field, value);
    }
    let texts = this.captured.get(field);
    if (texts === undefined) {
      texts = new WeakMap();
      this.captured.set(field, texts);
    }
    const known = texts.get(source);
    if (known !== undefined && (stamper === undefined || stamper.matches(source, known.stamp))) return known.text;
    const value = make(source);
    if (value === undefined) return undefined;
    const text = this.redactText(field, value);
    texts.set(source, { text, stamp: stamper?.of(source) });
    return text;
  }

  /**
   * @internal Captures a list made item by item from `sources` (a conversation): the JSON array
   * of the items' texts, each from `captureOf`, so a model call sent the whole conversation again
   * serialises and redacts only the messages new (or changed) since the last call. Cut to
   * `maxContentLength` after each item is redacted whole. Uncut, the same text as
   * `capture(field, sources.map(make))` with the built-in redactor; a custom redactor is given
   * the whole list.
   */
  captureListOf(
    field: ContentField,
    sources: readonly unknown[],
    make: (source: unknown) => unknown,
    stamper?: Stamper,
  ): string | undefined {
    if (!this.options.captureContent) return undefined;
    if (this.options.redact !== redactSecrets) return this.redactText(field, sources.map(make));
    const max = this.options.maxContentLength;
    let text = "[";
    for (let i = 0; i < sources.length; i++) {
      text += `${i > 0 ? "," : ""}${this.captureOf(field, sources[i], make, stamper) ?? "null"}`;
      if (text.length > max) return `${text.slice(0, max)}…[truncated]`;
    }
    return `${text}]`;
  }

  /**
   * @internal Text recorded whatever `captureContent` says (an error message, an evaluator's
   * reason), and every captured value: serialised, redacted and cut to `maxContentLength`. A
   * redactor that throws yields `[REDACTION_FAILED]` and is reported, never thrown.
   */
  redactText(field: ContentField, value: unknown): string {
    const o = this.options;
    return captureText(value, field, o.redact, o.maxContentLength, (e) => this.reportError(e, "redact"));
  }

  /** Reports a telemetry failure: counted by source and passed to the error hook; never throws. */
  readonly reportError: ErrorHook = (error, source) => {
    this.errors[source] = (own(this.errors, source) ?? 0) + 1;
    const hook = this.options?.onError;
    try {
      if (hook) hook(error, source);
      else if (!this.warned.has(source)) {
        this.warned.add(source);
        process.emitWarning(
          `agentwarden: telemetry failure in ${source} (further ones are only counted): ${String(error)}`,
        );
      }
    } catch {
      // The error hook itself failed: the failure is already counted.
    }
  };

  stats(): WardenStats {
    return {
      tasksStarted: this.started,
      tasksEnded: this.ended,
      openTasks: this.started - this.ended,
      telemetryErrors: { ...this.errors },
    };
  }

  /**
   * Exports everything buffered by the subscribers (spans of the last tasks, for serverless).
   * Resolves within `flushTimeoutMs`: a subscriber still flushing then is reported and counted.
   */
  async flush(): Promise<void> {
    if (this.online) await this.waitForEvaluations();
    await this.hub.forceFlush(this.options.flushTimeoutMs);
  }

  /** Flushes, then shuts the subscribers down, each within `flushTimeoutMs`. Idempotent. */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.online) {
      this.online.close();
      await this.waitForEvaluations();
      this.online.abort();
    }
    await this.hub.shutdown(this.options.flushTimeoutMs);
  }

  /** Online evaluations queued or running, given `flushTimeoutMs` to finish (then reported). */
  private async waitForEvaluations(): Promise<void> {
    const online = this.online as OnlineEvaluation;
    const timeoutMs = this.options.flushTimeoutMs;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    try {
      if ((await Promise.race([online.idle().then(() => "idle" as const), timeout])) === "timeout") {
        this.reportError(
          new AgentWardenError(
            "FLUSH_TIMEOUT",
            `agentwarden: online evaluations did not finish within ${timeoutMs} ms (flushTimeoutMs); given up`,
            { subscriber: online.name, timeoutMs },
          ),
          `flush:${online.name}`,
        );
      }
    } finally {
      clearTimeout(timer);
    }
  }

  private readonly taskEnded = (_run: Run): void => {
    this.ended++;
  };
}

export type { Step };

/**
 * The run store, opened at construction: a location that cannot be written (read-only, a parent
 * that is a file, a directory in its place) is a configuration error, thrown here naming the
 * option, not a telemetry failure to discover task by task.
 */
function openStore(path: string): FileStore {
  try {
    return new FileStore(path);
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    const cause = typeof code === "string" ? code : "unknown";
    const message = error instanceof Error ? error.message : String(error);
    throw new AgentWardenError(
      "STORE_UNAVAILABLE",
      `agentwarden: option store cannot be opened for appending: ${JSON.stringify(path)} (${message}). Give a writable path, or leave store unset.`,
      { path, cause },
      { cause: error },
    );
  }
}

/** A tool result that is an error: a ToolMessage with `status: "error"`, or an MCP result with `isError`. */
function isErrorToolMessage(result: unknown): boolean {
  if (typeof result !== "object" || result === null) return false;
  try {
    const r = result as { status?: unknown; isError?: unknown };
    return r.status === "error" || r.isError === true;
  } catch {
    return false; // a result that throws when read (a getter, a revoked proxy) is the tool's business
  }
}

/**
 * What a cached capture depends on: `of` takes a stamp of a source (what `make` reads of it), and
 * `matches` tells whether the source still reads as that stamp says, without making a new one.
 */
export interface Stamper {
  of(source: unknown): unknown;
  matches(source: unknown, stamp: unknown): boolean;
}
