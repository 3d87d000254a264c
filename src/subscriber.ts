import type { Run } from "./run/run.js";
import type { Step } from "./run/step.js";

/**
 * Something fed the step events of every run: tracing, metrics, sinks. A subscriber observes; it
 * never changes control. Every method is optional, and every call is guarded: a subscriber that
 * throws is counted and reported through the Warden's error hook, and the agent goes on.
 */
export interface Subscriber {
  /** A short name for error reports (`tracing`, `metrics`, ...). */
  readonly name: string;
  /** A step started. Called synchronously, before the step's work runs. */
  onStepStart?(step: Step): void;
  /** A step ended; its status, error, timings and facts are final. */
  onStepEnd?(step: Step): void;
  /** A task ended: its root step has ended and its outcome is set. */
  onTaskEnd?(run: Run): void;
  /**
   * Runs the step's work inside a context this subscriber owns (the tracing subscriber makes the
   * step's span the active OpenTelemetry span). Must call `fn` exactly once and return its result.
   */
  activate?<T>(step: Step, fn: () => T): T;
  /** Exports whatever is buffered. */
  forceFlush?(): Promise<void>;
  /** Flushes and releases resources; later events are ignored. */
  shutdown?(): Promise<void>;
}
