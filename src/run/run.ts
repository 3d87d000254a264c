import { randomUUID } from "node:crypto";
import type { ContentField } from "../redact.js";
import { nullTable } from "../tables.js";
import { now, Step, type StepError, type StepKind, type StepStatus } from "./step.js";
import type { RunGuardOf, RunOwnerOf, RunSummaryOf } from "./types.js";
import { addUsage, type TokenUsage } from "./usage.js";

declare module "./types.js" {
  /** `step.run` is the Run it belongs to. */
  interface RunTypes {
    run: Run;
  }
}

/**
 * What the ledger needs from the layer that owns it, as interfaces it defines itself: a Run imports
 * nothing of the Warden, the policies or the metrics. The Warden implements `RunHost`.
 */
export interface RunHost {
  /** Fed every step event, in order (the Warden's subscriber hub). */
  readonly hub: RunEvents;
  /** Redacts agent text that the ledger always records (error messages, eval reasons). */
  redactText(field: ContentField, value: unknown): string;
  /** A run's figures, computed by the layer that knows prices and the metrics rules. */
  summarize(run: Run): RunSummaryOf;
}

/** The step events a run emits; the Warden's hub fans them out to subscribers. */
export interface RunEvents {
  stepStart(step: Step): void;
  stepEnd(step: Step): void;
  taskEnd(run: Run): void;
  /** Runs a step's work inside the subscribers' contexts (the active span), exactly once. */
  activate<T>(step: Step, fn: () => T): T;
}

/**
 * The part of a task's breakers the ledger sees: told when a model call's step ends (whatever its
 * status: what the call held in flight is released), asked whether it tripped, and disposed, at the end.
 */
export interface RunGuard {
  readonly tripped: { readonly kind: string; readonly reason: string } | undefined;
  endCall(step: Step): void;
  dispose(): void;
}

/**
 * How a task ended. `interrupted`: paused by `interrupt()` (human in the loop), to be resumed by a
 * later invoke. `cancelled`: the caller's own AbortSignal fired.
 */
export type TaskOutcome = "success" | "failure" | "interrupted" | "cancelled";

/** Counts of a run's steps, kept as they end. */
export interface StepCounts {
  nodes: number;
  chats: number;
  tools: number;
  /** Steps that ended with status `error`, by kind. */
  nodeErrors: number;
  chatErrors: number;
  toolErrors: number;
  /** Model calls whose provider reported no token usage. */
  chatsWithoutUsage: number;
  evals: number;
  /** Evaluator runs that failed or threw. */
  evalFailures: number;
}

/**
 * The ledger of one task: a tree of steps rooted at the task's graph run, with the token usage and
 * step counts summed as steps end. Code running inside the task finds it with `currentRun()`.
 * A Run holds no reference from the Warden once it has ended, so it is freed with its last user.
 */
export class Run {
  readonly id = randomUUID();
  readonly root: Step;
  readonly startTime: number;
  endTime: number | undefined;
  outcome: TaskOutcome | undefined;
  /** Why the task failed, when it did. */
  error: StepError | undefined;
  /** Sum of the token usage reported by every model call; undefined until one reports usage. */
  usage: TokenUsage | undefined;
  readonly counts: StepCounts = {
    nodes: 0,
    chats: 0,
    tools: 0,
    nodeErrors: 0,
    chatErrors: 0,
    toolErrors: 0,
    chatsWithoutUsage: 0,
    evals: 0,
    evalFailures: 0,
  };
  /** Why the task failed though it returned normally (a final check still failing), if it did. */
  failure: StepError | undefined;
  /** Set when a guard blocked a step: later model calls answer with the refusal instead of running. */
  guardBlocked: string | undefined;
  /** The task's breakers, when any limit applies. */
  guard: (RunGuardOf & RunGuard) | undefined;
  /** Breaker trips in this task, by kind. */
  readonly trips: Record<string, number> = nullTable();
  /** Suspected loops in this task (reported, not stopped), by the tool or node that repeated. */
  readonly suspectedLoops: Record<string, number> = nullTable();
  private openSteps = 0;
  /**
   * Set at task start when an online evaluator may sample this task: the adapter then keeps the
   * task's input and final output for it (nothing is kept otherwise).
   */
  keepOutput = false;
  /** The task's input and final output (last state), kept only when `keepOutput` is set. */
  input: unknown;
  output: unknown;

  /** @internal */ readonly hub: RunEvents;

  constructor(
    /** The Warden this task belongs to. */
    readonly warden: RunOwnerOf & RunHost,
    kind: "workflow" | "agent",
    name: string,
    private readonly onEnd: (run: Run) => void,
    fill?: (step: Step) => void,
  ) {
    this.hub = warden.hub;
    this.startTime = now();
    this.root = this.start(kind, name, undefined, fill);
  }

  /** The task's name: its root graph's name. */
  get name(): string {
    return this.root.name;
  }

  /** The prompt or agent version the task ran with, when one was given. */
  get version(): string | undefined {
    return this.root.graph?.version;
  }

  /**
   * Opens a step under `parent` (the root when omitted). `fill` sets the kind-specific facts before
   * subscribers see the step, so that a span starts with its sampling-relevant attributes.
   */
  start(kind: StepKind, name: string, parent: Step | undefined, fill?: (step: Step) => void): Step {
    const step = new Step(this, kind, name, parent ?? this.root, now());
    if (fill) fill(step);
    if (step.parent) step.parent.children.push(step);
    this.openSteps++;
    this.hub.stepStart(step);
    return step;
  }

  /**
   * Closes a step. Ending the root step ends the task; a step ends once, later calls are ignored.
   * The error's message and an eval step's reason are redacted here, always (`error.message`,
   * `gen_ai.evaluation.explanation`): subscribers only ever see the redacted text.
   */
  end(step: Step, status: Exclude<StepStatus, "running">, error?: StepError): void {
    if (step.status !== "running") return;
    if (step.kind === "chat" && this.guard) this.guard.endCall(step);
    if (step === this.root && this.failure && status === "ok") {
      status = "error";
      error = this.failure;
    }
    if (step === this.root && this.guard) {
      this.guard.dispose();
      // A tripped task is a failure, whichever way it stopped (aborted, or finalized normally).
      const trip = this.guard.tripped;
      if (trip && status !== "error") {
        status = "error";
        error = { type: "breaker_trip", message: `${trip.kind} breaker tripped: ${trip.reason}` };
      }
    }
    step.endTime = now();
    step.status = status;
    // The one place agent text that is recorded always (not opt-in content) enters the ledger:
    // every subscriber, span and store line sees it redacted. Adapters keep the raw error.
    if (error) {
      step.error = { type: error.type, message: this.warden.redactText("error.message", error.message) };
      if (error === this.failure) this.failure = step.error;
    }
    if (step.eval?.reason !== undefined)
      step.eval.reason = this.warden.redactText("gen_ai.evaluation.explanation", step.eval.reason);
    if (step.guard?.reason !== undefined)
      step.guard.reason = this.warden.redactText("gen_ai.evaluation.explanation", step.guard.reason);
    this.openSteps--;
    this.count(step);
    this.hub.stepEnd(step);
    if (step === this.root) this.finish(step);
  }

  /**
   * The task's figures (outcome, cost, tokens, subtasks, failures, recoveries, per tool, model and
   * node, compact step records), computed once when first asked for after the task ended.
   */
  summary(): RunSummaryOf {
    if (this.summaryCache === undefined) this.summaryCache = this.warden.summarize(this);
    return this.summaryCache;
  }

  private summaryCache: RunSummaryOf | undefined;

  /** Steps still open: 0 once the task has ended cleanly. */
  get open(): number {
    return this.openSteps;
  }

  private count(step: Step): void {
    const c = this.counts;
    const failed = step.status === "error";
    switch (step.kind) {
      case "node":
        c.nodes++;
        if (failed) c.nodeErrors++;
        break;
      case "chat": {
        c.chats++;
        if (failed) c.chatErrors++;
        const usage = step.chat?.usage;
        if (usage) {
          if (this.usage) addUsage(this.usage, usage);
          else this.usage = { ...usage };
        } else if (!failed) c.chatsWithoutUsage++;
        break;
      }
      case "tool":
        c.tools++;
        if (failed) c.toolErrors++;
        break;
      case "eval":
        c.evals++;
        if (failed) c.evalFailures++;
        break;
    }
  }

  private finish(root: Step): void {
    this.endTime = root.endTime;
    this.outcome =
      root.status === "ok"
        ? "success"
        : root.status === "interrupted"
          ? "interrupted"
          : root.status === "cancelled"
            ? "cancelled"
            : "failure";
    if (root.error) this.error = root.error;
    this.onEnd(this);
    this.hub.taskEnd(this);
  }
}
