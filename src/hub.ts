import type { Run } from "./run/run.js";
import type { Step } from "./run/step.js";
import type { Subscriber } from "./subscriber.js";

/** Where telemetry failures go: `source` names the part that failed (`subscriber:tracing`, ...). */
export type ErrorHook = (error: unknown, source: string) => void;

/**
 * Fans step events out to the subscribers, each call guarded so that a failing subscriber is
 * reported and skipped, never thrown into the agent. With no subscribers every call is a no-op.
 */
export class Hub {
  private subscribers: Subscriber[] = [];
  private activators: Subscriber[] = [];

  constructor(private readonly onError: ErrorHook) {}

  add(subscriber: Subscriber): () => void {
    this.subscribers = [...this.subscribers, subscriber];
    this.activators = this.subscribers.filter((s) => typeof s.activate === "function");
    return () => {
      this.subscribers = this.subscribers.filter((s) => s !== subscriber);
      this.activators = this.activators.filter((s) => s !== subscriber);
    };
  }

  list(): readonly Subscriber[] {
    return this.subscribers;
  }

  stepStart(step: Step): void {
    for (const s of this.subscribers) {
      if (!s.onStepStart) continue;
      try {
        s.onStepStart(step);
      } catch (error) {
        this.onError(error, `subscriber:${s.name}`);
      }
    }
  }

  stepEnd(step: Step): void {
    for (const s of this.subscribers) {
      if (!s.onStepEnd) continue;
      try {
        s.onStepEnd(step);
      } catch (error) {
        this.onError(error, `subscriber:${s.name}`);
      }
    }
  }

  taskEnd(run: Run): void {
    for (const s of this.subscribers) {
      if (!s.onTaskEnd) continue;
      try {
        s.onTaskEnd(run);
      } catch (error) {
        this.onError(error, `subscriber:${s.name}`);
      }
    }
  }

  /** Runs `fn` inside every activating subscriber's context, outermost first. */
  activate<T>(step: Step, fn: () => T): T {
    const activators = this.activators;
    if (activators.length === 0) return fn();
    if (activators.length === 1) return this.activateOne(activators[0] as Subscriber, step, fn);
    let wrapped = fn;
    for (let i = activators.length - 1; i >= 0; i--) {
      const s = activators[i] as Subscriber;
      const inner = wrapped;
      wrapped = () => this.activateOne(s, step, inner);
    }
    return wrapped();
  }

  private activateOne<T>(s: Subscriber, step: Step, fn: () => T): T {
    // `fn` is the agent's own work: its errors must propagate untouched, so only a failure of the
    // subscriber before `fn` ran is caught (then `fn` runs without that subscriber's context).
    let entered = false;
    try {
      return (s.activate as NonNullable<Subscriber["activate"]>)(step, () => {
        entered = true;
        return fn();
      });
    } catch (error) {
      if (entered) throw error;
      this.onError(error, `subscriber:${s.name}`);
      return fn();
    }
  }

  async forceFlush(): Promise<void> {
    await Promise.all(this.subscribers.map((s) => this.guard(s, s.forceFlush)));
  }

  async shutdown(): Promise<void> {
    await Promise.all(this.subscribers.map((s) => this.guard(s, s.shutdown)));
  }

  private async guard(s: Subscriber, method: (() => Promise<void>) | undefined): Promise<void> {
    if (!method) return;
    try {
      await method.call(s);
    } catch (error) {
      this.onError(error, `subscriber:${s.name}`);
    }
  }
}
