import { AgentWardenError } from "./errors.js";
import type { Run, RunEvents } from "./run/run.js";
import type { Step } from "./run/step.js";
import type { Subscriber } from "./subscriber.js";

/** Where telemetry failures go: `source` names the part that failed (`subscriber:tracing`, ...). */
export type ErrorHook = (error: unknown, source: string) => void;

/**
 * Fans step events out to the subscribers, each call guarded so that a failing subscriber is
 * reported and skipped, never thrown into the agent. With no subscribers every call is a no-op.
 */
export class Hub implements RunEvents {
  private subscribers: Subscriber[] = [];
  private activators: Subscriber[] = [];
  /** Subscribers of this package whose `activate` is known to call the work exactly once (tracing). */
  private readonly trusted = new WeakSet<Subscriber>();

  constructor(private readonly onError: ErrorHook) {}

  /**
   * `trusted`: for agentwarden's own subscribers only. Their `activate` is called directly, without
   * the guard that makes sure a user's subscriber runs the work exactly once (two closures and a
   * result record per step, measured on the hot path).
   */
  add(subscriber: Subscriber, trusted = false): () => void {
    if (trusted) this.trusted.add(subscriber);
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
    if (activators.length === 1) {
      const only = activators[0] as Subscriber;
      if (this.trusted.has(only)) return (only.activate as NonNullable<Subscriber["activate"]>)(step, fn);
      return this.activateOne(only, step, fn);
    }
    let wrapped = fn;
    for (let i = activators.length - 1; i >= 0; i--) {
      const s = activators[i] as Subscriber;
      const inner = wrapped;
      wrapped = () => this.activateOne(s, step, inner);
    }
    return wrapped();
  }

  private activateOne<T>(s: Subscriber, step: Step, fn: () => T): T {
    // `fn` is the agent's own work: it runs exactly once, and its result or error reaches the
    // caller untouched, whatever the subscriber does. A subscriber that throws (before or after
    // calling `fn`), never calls `fn`, or calls it twice is reported; its own error never replaces
    // the agent's, and work already started is never abandoned.
    let ran: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
    const once = (): T => {
      if (ran === undefined) {
        try {
          ran = { ok: true, value: fn() };
        } catch (error) {
          ran = { ok: false, error };
        }
      } else this.onError(new Error(`subscriber ${s.name} called the step's work twice in activate`), source(s));
      if (!ran.ok) throw ran.error;
      return ran.value;
    };
    let threw = false;
    try {
      (s.activate as NonNullable<Subscriber["activate"]>)(step, once);
    } catch (error) {
      if (ran === undefined || ran.ok || error !== ran.error) {
        threw = true;
        this.onError(error, source(s));
      }
    }
    if (ran === undefined) {
      if (!threw) this.onError(new Error(`subscriber ${s.name} did not call the step's work in activate`), source(s));
      return once(); // without that subscriber's context
    }
    if (!ran.ok) throw ran.error;
    return ran.value;
  }

  /** Each subscriber's `forceFlush`, given up (reported, counted) after `timeoutMs`. */
  async forceFlush(timeoutMs: number): Promise<void> {
    await Promise.all(this.subscribers.map((s) => this.guard(s, "forceFlush", timeoutMs)));
  }

  /** Each subscriber's `shutdown`, given up (reported, counted) after `timeoutMs`. */
  async shutdown(timeoutMs: number): Promise<void> {
    await Promise.all(this.subscribers.map((s) => this.guard(s, "shutdown", timeoutMs)));
  }

  private async guard(s: Subscriber, operation: "forceFlush" | "shutdown", timeoutMs: number): Promise<void> {
    const method = s[operation];
    if (!method) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Not unref'd: an awaited flush before exit must settle, and it does within `timeoutMs`.
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    const work = (async () => {
      await method.call(s);
    })().then(
      () => "done" as const,
      (error: unknown) => {
        this.onError(error, source(s));
        return "done" as const;
      },
    );
    try {
      if ((await Promise.race([work, timeout])) === "timeout") {
        this.onError(
          new AgentWardenError(
            "FLUSH_TIMEOUT",
            `agentwarden: subscriber ${s.name} did not finish ${operation} within ${timeoutMs} ms (flushTimeoutMs); given up`,
            { subscriber: s.name, operation, timeoutMs },
          ),
          `${operation === "forceFlush" ? "flush" : "shutdown"}:${s.name}`,
        );
      }
    } finally {
      clearTimeout(timer);
    }
  }
}

function source(s: Subscriber): string {
  return `subscriber:${s.name}`;
}
