import { AsyncLocalStorage } from "node:async_hooks";
import { AsyncLocalStorageProviderSingleton } from "@langchain/core/singletons";
import { registerScopeResolver, type Step } from "../../src/index.js";

/*
 * The current step travels in LangChain's own AsyncLocalStorage, as a context variable (the
 * mechanism behind `setContextVariable` in `@langchain/core/context`), never in the RunnableConfig.
 * LangChain's `runWithConfig`, which LangGraph calls around every node, task and tool, carries
 * context variables over into the store it makes, so the step reaches every node, subgraph, model
 * and tool of a run; and since it is not in the config, LangGraph cannot copy it into checkpoint
 * configs, debug or checkpoint stream chunks, or anything a checkpointer stores. LangGraph already
 * keeps that AsyncLocalStorage in use, so no AsyncLocalStorage is added (see README, "Design").
 */

/** LangChain's key for context variables on its AsyncLocalStorage store (`@langchain/core` globals). */
const CONTEXT_VARIABLES = Symbol.for("lc:context_variables");
/** Our context variable: a symbol (shared by copies of this package), so no user variable can collide with it. */
const STEP = Symbol.for("agentwarden.step");

type Store = Record<PropertyKey, unknown> & { [CONTEXT_VARIABLES]?: Record<PropertyKey, unknown> };

function storage() {
  return AsyncLocalStorageProviderSingleton.getInstance() as unknown as {
    getStore(): Store | undefined;
    run<T>(store: Store, fn: () => T): T;
  };
}

/** The step of the LangChain context the calling code runs in, if any. */
export function stepInContext(): Step | undefined {
  return storage().getStore()?.[CONTEXT_VARIABLES]?.[STEP] as Step | undefined;
}

/** The store a step was last entered with, and the store it was entered from. */
interface Entered {
  from: Store | undefined;
  store: Store;
}

const entered = new WeakMap<Step, Entered>();

/** On a light store: the LangChain store (a RunTree) it stands for. */
const STANDS_FOR = Symbol("agentwarden.standsFor");

/**
 * Runs `fn` with `step` as the current step in LangChain's AsyncLocalStorage. The store is a copy
 * of the current one (a RunTree stays a RunTree, with the same config and callbacks), so
 * `getRunnableConfig()`, `interrupt()`, `getWriter()`, `getCurrentRunTree()` and
 * `setContextVariable()` inside see exactly what they would without agentwarden; only the context
 * variables gain the step.
 *
 * `light`: only LangChain's and LangGraph's own plumbing runs in the store before the next
 * `runWithConfig` makes a store of its own (a graph's loop; a node whose runnable is LangGraph's
 * `RunnableCallable` or a compiled graph), and the current store is LangChain's placeholder
 * RunTree (no LangSmith tracing here): that plumbing reads only the config and the context
 * variables, so the store holds just those, and the RunTree it stands for, which a model or tool
 * step under it copies. Copying a 33-field RunTree per step was the step scope's largest cost.
 *
 * A copy is an object literal with the same prototype (measured: fast properties, one hidden class
 * for every copy, 0.5 µs; `Object.assign` onto `Object.create(proto)` made a dictionary-mode
 * object). A step entered again from the same store (a graph step, once per `next()` of its
 * iterator) reuses the store it made the first time.
 */
export function runWithStep<T>(step: Step, fn: () => T, light = false): T {
  const als = storage();
  const previous = als.getStore();
  const last = entered.get(step);
  if (last !== undefined && last.from === previous) return als.run(last.store, fn);
  const variables = { ...previous?.[CONTEXT_VARIABLES], [STEP]: step };
  let store: Store;
  const base = (previous?.[STANDS_FOR] as Store | undefined) ?? previous;
  if (base === undefined) store = { [CONTEXT_VARIABLES]: variables };
  else if (light && base.tracingEnabled === false && typeof base.extra === "object")
    // `tracingEnabled: false` as on the placeholder: LangChain's callback setup reads it.
    store = { extra: previous?.extra, tracingEnabled: false, [CONTEXT_VARIABLES]: variables, [STANDS_FOR]: base };
  else store = { __proto__: Object.getPrototypeOf(base), ...base, [CONTEXT_VARIABLES]: variables } as Store;
  // Only a step entered more than once (a graph step) is worth remembering.
  if (step.kind === "agent" || step.kind === "workflow") entered.set(step, { from: previous, store });
  return als.run(store, fn);
}

/**
 * Runs `fn` with `step` current both for agentwarden (LangChain's store) and for the subscribers
 * (its span). `light`: see `runWithStep`.
 */
export function enterStep<T>(step: Step, fn: () => T, light = false): T {
  return runWithStep(step, () => step.run.hub.activate(step, fn), light);
}

let registered = false;

/**
 * Lets `currentStep()` find the step from code running inside a LangChain runnable (a tool body).
 * Makes sure LangChain's AsyncLocalStorage exists (LangGraph creates it on import; this does the
 * same, once, if it has not).
 */
export function registerLangChainScope(): void {
  if (registered) return;
  registered = true;
  AsyncLocalStorageProviderSingleton.initializeGlobalInstance(new AsyncLocalStorage() as never);
  registerScopeResolver(stepInContext);
}
