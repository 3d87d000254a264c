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

/**
 * Runs `fn` inside LangChain's AsyncLocalStorage with `config`, so that `getRunnableConfig()` (and
 * `currentStep()`) find it. This is LangChain's own `runWithConfig`, RunTree and all (~25 µs): a
 * lighter store was measured, but `setContextVariable` inside the tool rebuilds the store from a
 * RunTree only, so a plain one loses the config (and with it `interrupt()`, `getWriter()`, nested
 * callbacks).
 */
export function runWithLangChainConfig<T>(config: Record<string, unknown>, fn: () => T): T {
  return AsyncLocalStorageProviderSingleton.runWithConfig(config as never, fn);
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
