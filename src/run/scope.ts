import { AsyncLocalStorage } from "node:async_hooks";
import type { Run } from "./run.js";
import type { Step } from "./step.js";

/*
 * One AsyncLocalStorage per process, shared by every copy of agentwarden that is loaded (a bundled
 * copy beside an installed one), so a step opened by one copy is the parent of steps of the other.
 */
const key = Symbol.for("agentwarden.scope");
const holder = globalThis as { [key]?: AsyncLocalStorage<Step> };
const storage: AsyncLocalStorage<Step> = holder[key] ?? new AsyncLocalStorage<Step>();
holder[key] = storage;

/** The innermost step of the task the calling code runs in, if any. */
export function currentStep(): Step | undefined {
  return storage.getStore();
}

/** The run (task ledger) the calling code runs in, if any. */
export function currentRun(): Run | undefined {
  return storage.getStore()?.run;
}

/**
 * Runs `fn` with `step` as the current step, and with whatever context the run's subscribers
 * attach to it (the tracing subscriber makes the step's span the active OpenTelemetry span).
 */
export function runInStep<T>(step: Step, fn: () => T): T {
  return step.run.hub.activate(step, () => storage.run(step, fn));
}
