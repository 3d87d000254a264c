import { AsyncLocalStorageProviderSingleton } from "@langchain/core/singletons";
import { registerScopeResolver, type Step } from "../../src/index.js";

/**
 * The current step travels in the RunnableConfig under this `configurable` key, which LangGraph
 * passes to every node, subgraph, model and tool of a run. LangGraph keeps `__`-prefixed keys out of
 * checkpoint metadata, so the step is never persisted.
 */
export const STEP_KEY = "__agentwarden_step";

interface ConfigLike {
  configurable?: Record<string, unknown>;
}

/** The step carried by a RunnableConfig, if any. */
export function stepOf(config: unknown): Step | undefined {
  const c = config as ConfigLike | undefined;
  return (c?.configurable?.[STEP_KEY] as Step | undefined) ?? undefined;
}

/** A copy of `config` carrying `step`. */
export function withStep<C extends object>(config: C | undefined, step: Step): C {
  const configurable = (config as ConfigLike | undefined)?.configurable;
  return { ...(config as C), configurable: { ...configurable, [STEP_KEY]: step } };
}

/** True when `config` is a RunnableConfig object (not the legacy callbacks array or manager). */
export function isConfigObject(config: unknown): config is Record<string, unknown> {
  return (
    typeof config === "object" &&
    config !== null &&
    !Array.isArray(config) &&
    typeof (config as { handlers?: unknown }).handlers === "undefined"
  );
}

/** Where LangChain's AsyncLocalStorage store keeps the RunnableConfig (`getRunnableConfig()` reads it). */
const LC_CHILD_KEY = Symbol.for("lc:child_config");
const LC_CONTEXT_VARIABLES = Symbol.for("lc:context_variables");

/**
 * Runs `fn` inside LangChain's AsyncLocalStorage with `config`, as `runWithConfig` does, so that
 * `getRunnableConfig()` (and `currentStep()`) find it. `runWithConfig` also builds a callback manager
 * and a LangSmith RunTree (a uuid7, a timestamp, environment look-ups): measured at about a tenth of
 * a bare tool call, for a tree nobody reads unless LangSmith traces the run. So that path is taken
 * only when the config carries LangSmith's tracer; otherwise the store is the plain object LangChain
 * itself uses when it skips the RunTree.
 */
export function runWithLangChainConfig<T>(config: Record<string, unknown>, fn: () => T): T {
  if (tracesToLangSmith(config)) return AsyncLocalStorageProviderSingleton.runWithConfig(config as never, fn);
  const storage = AsyncLocalStorageProviderSingleton.getInstance();
  const previous = storage.getStore() as Record<symbol, unknown> | undefined;
  const store: Record<string | symbol, unknown> = { extra: { [LC_CHILD_KEY]: config } };
  if (previous?.[LC_CONTEXT_VARIABLES] !== undefined) store[LC_CONTEXT_VARIABLES] = previous[LC_CONTEXT_VARIABLES];
  return storage.run(store, fn);
}

function tracesToLangSmith(config: Record<string, unknown>): boolean {
  const callbacks = config.callbacks as { handlers?: unknown } | unknown[] | undefined;
  const handlers = Array.isArray(callbacks) ? callbacks : (callbacks as { handlers?: unknown } | undefined)?.handlers;
  if (Array.isArray(handlers) && handlers.some((h) => (h as { name?: unknown })?.name === "langchain_tracer"))
    return true;
  // LangChain adds the tracer from the environment when a callback manager is configured.
  const env = process.env;
  return env.LANGSMITH_TRACING === "true" || env.LANGCHAIN_TRACING_V2 === "true" || env.LANGCHAIN_TRACING === "true";
}

/** Lets `currentStep()` find the step from code running inside a LangChain runnable (a tool body). */
function fromLangChainConfig(): Step | undefined {
  return stepOf(AsyncLocalStorageProviderSingleton.getRunnableConfig());
}

let registered = false;

export function registerLangChainScope(): void {
  if (registered) return;
  registered = true;
  registerScopeResolver(fromLangChainConfig);
}
