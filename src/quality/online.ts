import { AsyncLocalStorage } from "node:async_hooks";
import { toEvalResult } from "../evals/Evaluator.js";
import type { MetricsSubscriber } from "../metrics/MetricsSubscriber.js";
import type { TaskSummary } from "../metrics/summary.js";
import type { PriceTable } from "../pricing/PriceTable.js";
import type { ContentField } from "../redact.js";
import type { Run } from "../run/run.js";
import type { TokenUsage } from "../run/usage.js";
import type { FileStore } from "../store/FileStore.js";
import type { EvalRecord } from "../store/records.js";
import type { Subscriber } from "../subscriber.js";
import type { OnlineEvaluator, OnlineTask, ResolvedOnline } from "./onlineOptions.js";

/**
 * What online evaluation needs of the Warden that runs it (the Warden implements it): where results
 * go, how judge calls are priced, how text is redacted, where failures are reported.
 */
export interface OnlineHost {
  readonly metrics: Pick<MetricsSubscriber, "addEval" | "evalDropped"> | undefined;
  readonly store: Pick<FileStore, "append"> | undefined;
  readonly prices: Pick<PriceTable, "cost">;
  redactText(field: ContentField, value: unknown): string;
  reportError(error: unknown, source: string): void;
}

/** Counters of online evaluation since the Warden started. */
export interface OnlineEvalStats {
  /** Tasks chosen by the sample (rate and agent filter), whatever happened next. */
  sampled: number;
  /** Sampled tasks queued for evaluation. */
  queued: number;
  /** Sampled tasks not evaluated, by why: `queue_full`, `budget` (the evaluation budget spent), `shutdown`. */
  dropped: { queue_full: number; budget: number; shutdown: number };
  /** Tasks whose evaluators have all run. */
  evaluated: number;
  /** Evaluator runs that threw or timed out (recorded as failures). */
  errors: number;
  /** Tasks waiting in the queue, and being evaluated now. */
  pending: number;
  running: number;
  /** Judge cost in USD so far, and judge calls with no price. */
  costUsd: number;
  costUnknownCalls: number;
}

/** 2^32, to turn a 32-bit hash into a fraction. */
const TWO_32 = 4_294_967_296;

/**
 * The sampling decision for a task id: FNV-1a of the id as a fraction of 2^32, below `rate`. The
 * same id is always in or out, in every process (a re-run, a replay, another worker agree).
 */
export function sampled(id: string, rate: number): boolean {
  if (rate >= 1) return true;
  if (rate <= 0) return false;
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) / TWO_32 < rate;
}

interface Job {
  task: OnlineTask;
}

/**
 * Online evaluation: evaluators run after a task ends, off the agent's path. At task start the
 * sampling decision is made (rate by task id, agent filter) and only then is the task's output
 * kept; at task end a sampled task with a wanted outcome is put in a bounded queue (a full queue
 * or a spent budget drops it, counted). Workers, running outside any task's context, evaluate it;
 * each result is an `eval` record in the store and in the metrics. Nothing here runs per step.
 */
export class OnlineEvaluation implements Subscriber {
  readonly name = "online-eval";
  private readonly queue: Job[] = [];
  private head = 0;
  private running = 0;
  private scheduled = false;
  private closed = false;
  private readonly shutdownController = new AbortController();
  private readonly idleWaiters: Array<() => void> = [];
  private readonly stats_: OnlineEvalStats = {
    sampled: 0,
    queued: 0,
    dropped: { queue_full: 0, budget: 0, shutdown: 0 },
    evaluated: 0,
    errors: 0,
    pending: 0,
    running: 0,
    costUsd: 0,
    costUnknownCalls: 0,
  };
  private windowStart = Date.now();
  private windowCost = 0;
  /** Runs a function in the context the Warden was built in: no task's step is current there. */
  private readonly outside = AsyncLocalStorage.snapshot();
  private readonly listeners: Array<(record: EvalRecord) => void> = [];

  constructor(
    private readonly warden: OnlineHost,
    private readonly config: ResolvedOnline,
  ) {}

  /** At task start: whether this task is in the sample (its input and output are then kept). */
  wants(run: Run): boolean {
    const c = this.config;
    if (c.agents && !c.agents.has(run.name)) return false;
    return sampled(run.id, c.sampleRate);
  }

  /** At task end: the only work on the agent's path, an enqueue (or a counted drop). */
  onTaskEnd(run: Run): void {
    if (!run.keepOutput) return;
    const input = run.input;
    const output = run.output;
    run.input = undefined;
    run.output = undefined;
    if (!this.config.outcomes.has(run.outcome ?? "failure")) return;
    this.stats_.sampled++;
    const refused = this.closed
      ? "shutdown"
      : this.budgetSpent()
        ? "budget"
        : this.queue.length - this.head >= this.config.queueSize
          ? "queue_full"
          : undefined;
    if (refused) {
      this.drop(refused);
      return;
    }
    this.queue.push({ task: { summary: run.summary(), input, output } });
    this.stats_.queued++;
    this.schedule();
  }

  /** Calls `listener` with each result recorded; returns a function that removes it. */
  onResult(listener: (record: EvalRecord) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  stats(): OnlineEvalStats {
    return {
      ...this.stats_,
      dropped: { ...this.stats_.dropped },
      pending: this.queue.length - this.head,
      running: this.running,
    };
  }

  /** Resolves when the queue is empty and no evaluation runs (the Warden's `flush` waits for it). */
  idle(): Promise<void> {
    if (this.queue.length - this.head === 0 && this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Takes no new tasks; evaluations queued or running finish (the Warden waits `flushTimeoutMs`). */
  close(): void {
    this.closed = true;
  }

  /** Aborts evaluations still running (their `signal`), drops what is queued. */
  abort(): void {
    this.closed = true;
    this.shutdownController.abort(new Error("agentwarden: Warden shut down"));
    const left = this.queue.length - this.head;
    for (let i = 0; i < left; i++) this.drop("shutdown");
    this.queue.length = 0;
    this.head = 0;
    this.settle();
  }

  private drop(reason: "queue_full" | "budget" | "shutdown"): void {
    this.stats_.dropped[reason]++;
    try {
      this.warden.metrics?.evalDropped(reason);
    } catch (error) {
      this.warden.reportError(error, "online-eval");
    }
  }

  private budgetSpent(): boolean {
    const b = this.config.budget;
    if (!b) return false;
    if (b.perSeconds !== undefined && Date.now() - this.windowStart >= b.perSeconds * 1000) {
      this.windowStart = Date.now();
      this.windowCost = 0;
    }
    return this.windowCost >= b.usd;
  }

  private schedule(): void {
    if (this.scheduled || this.running >= this.config.concurrency) return;
    this.scheduled = true;
    // Later, and outside the task's context: the judge's own model calls belong to no task.
    this.outside(() =>
      setImmediate(() => {
        this.scheduled = false;
        this.pump();
      }),
    );
  }

  private pump(): void {
    while (this.running < this.config.concurrency && this.queue.length - this.head > 0) {
      const job = this.queue[this.head] as Job;
      this.queue[this.head] = undefined as unknown as Job;
      this.head++;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      // Asked again at its turn: evaluations that ran since it was queued may have spent the budget
      // (a burst queues many before the first judge call is charged).
      if (this.budgetSpent()) {
        this.drop("budget");
        continue;
      }
      this.running++;
      void this.evaluate(job).finally(() => {
        this.running--;
        this.pump();
        this.settle();
      });
    }
    this.settle();
  }

  private settle(): void {
    if (this.queue.length - this.head > 0 || this.running > 0) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private async evaluate(job: Job): Promise<void> {
    for (const evaluator of this.config.evaluators) {
      const record = await this.runOne(evaluator, job.task);
      this.record(record);
    }
    this.stats_.evaluated++;
  }

  private async runOne(evaluator: OnlineEvaluator, task: OnlineTask): Promise<EvalRecord> {
    const s = task.summary;
    let costUsd = 0;
    let unknown = 0;
    const controller = new AbortController();
    const signal = AbortSignal.any([controller.signal, this.shutdownController.signal]);
    const charge = (model: string, usage: TokenUsage): number | undefined => {
      const cost = this.warden.prices.cost(model, usage);
      if (cost === undefined) unknown++;
      else costUsd += cost;
      return cost;
    };
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new Error(`online evaluator ${evaluator.name} timed out after ${this.config.timeoutMs} ms`);
        controller.abort(error);
        reject(error);
      }, this.config.timeoutMs);
      timer.unref?.();
    });
    let pass: boolean;
    let score: number | undefined;
    let reason: string | undefined;
    try {
      const result = toEvalResult(
        await Promise.race([Promise.resolve().then(() => evaluator.evaluate(task, { charge, signal })), timeout]),
      );
      pass = result.pass;
      score = result.score;
      reason = result.reason;
    } catch (error) {
      this.stats_.errors++;
      pass = false;
      reason = `evaluator error: ${error instanceof Error ? error.message : String(error)}`;
    } finally {
      clearTimeout(timer);
    }
    this.stats_.costUsd += costUsd;
    this.stats_.costUnknownCalls += unknown;
    this.windowCost += costUsd;
    return recordFor(s, evaluator.name, pass, score, reason, costUsd, unknown, (text) =>
      this.warden.redactText("gen_ai.evaluation.explanation", text),
    );
  }

  private record(record: EvalRecord): void {
    const w = this.warden;
    try {
      w.store?.append(record);
    } catch (error) {
      w.reportError(error, "subscriber:store");
    }
    try {
      w.metrics?.addEval(record);
    } catch (error) {
      w.reportError(error, "subscriber:metrics");
    }
    for (const l of this.listeners) {
      try {
        l(record);
      } catch (error) {
        w.reportError(error, "onEvalResult");
      }
    }
  }
}

function recordFor(
  s: TaskSummary,
  name: string,
  pass: boolean,
  score: number | undefined,
  reason: string | undefined,
  costUsd: number,
  costUnknownCalls: number,
  redact: (text: string) => string,
): EvalRecord {
  const r: EvalRecord = { v: 1, type: "eval", run: s.id, agent: s.agent, name, pass, time: Date.now() };
  if (s.version !== undefined) r.version = s.version;
  if (s.conversationId !== undefined) r.thread = s.conversationId;
  if (score !== undefined) r.score = score;
  if (reason !== undefined) r.reason = redact(reason);
  if (costUsd > 0) r.costUsd = costUsd;
  if (costUnknownCalls > 0) r.costUnknownCalls = costUnknownCalls;
  return r;
}
