import { AsyncLocalStorage } from "node:async_hooks";
import type { Run } from "./run.js";
import type { Step } from "./step.js";

/*
 * Finding the current step. agentwarden keeps one AsyncLocalStorage of its own, shared by every
 * copy of the package loaded in the process, but an adapter may carry the step in a context its
 * framework already propagates (the LangGraph adapter puts it in the RunnableConfig that LangChain
 * keeps in its own AsyncLocalStorage) and register a resolver for it. Each AsyncLocalStorage that
 * is in use makes every promise in the process pay to propagate it; reusing the framework's keeps
 * agentwarden's per-step cost near zero (see README, "Design").
 */
interface ScopeState {
  storage: AsyncLocalStorage<Step>;
  resolvers: Array<() => Step | undefined>;
}

const key = Symbol.for("agentwarden.scope");
const holder = globalThis as { [key]?: ScopeState };
const state: ScopeState = holder[key] ?? { storage: new AsyncLocalStorage<Step>(), resolvers: [] };
holder[key] = state;

/** The innermost step of the task the calling code runs in, if any. */
export function currentStep(): Step | undefined {
  let found = state.storage.getStore();
  for (const resolve of state.resolvers) {
    const step = resolve();
    if (step && (!found || (step.run === found.run && step.depth > found.depth))) found = step;
  }
  return found;
}

/** The run (task ledger) the calling code runs in, if any. */
export function currentRun(): Run | undefined {
  return currentStep()?.run;
}

/**
 * Runs `fn` with `step` as the current step, and with whatever context the run's subscribers
 * attach to it (the tracing subscriber makes the step's span the active OpenTelemetry span).
 */
export function runInStep<T>(step: Step, fn: () => T): T {
  return step.run.hub.activate(step, () => state.storage.run(step, fn));
}

/**
 * For adapters: registers a function that finds the current step in a context the framework
 * already propagates. Idempotent per function; returns a function that removes it.
 */
export function registerScopeResolver(resolve: () => Step | undefined): () => void {
  if (!state.resolvers.includes(resolve)) state.resolvers.push(resolve);
  return () => {
    state.resolvers = state.resolvers.filter((r) => r !== resolve);
  };
}
