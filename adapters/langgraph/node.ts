import type { Runnable, RunnableConfig } from "@langchain/core/runnables";
import { AsyncLocalStorageProviderSingleton } from "@langchain/core/singletons";
import { currentStep, type Step } from "../../src/index.js";
import { classify } from "./control.js";
import { type Correction, correct } from "./correct.js";
import { enterStep } from "./scope.js";

interface NodeConfig extends RunnableConfig {
  executionInfo?: { nodeAttempt?: number };
}

/** LangGraph's reader of the run's channels, handed to each node in its config (`CONFIG_KEY_READ`). */
type ChannelReader = (select: string | string[], fresh?: boolean) => unknown;
const CONFIG_KEY_READ = "__pregel_read";

const readers = new WeakMap<Step, ChannelReader>();

/**
 * The state LangGraph last produced in the run of `graph` (a graph step: the task's, or a nested
 * one): its output channels as they stand now, read through the reader its latest node was given.
 * Between supersteps that is the state last emitted as `values`, whatever the consumer has
 * received so far.
 */
export function latestState(graph: Step, outputChannels: unknown): unknown {
  const read = readers.get(graph);
  if (!read || (typeof outputChannels !== "string" && !Array.isArray(outputChannels))) return undefined;
  try {
    return read(outputChannels as string | string[], false);
  } catch {
    return undefined; // an empty channel (nothing produced yet)
  }
}

/**
 * A graph node's runnable, wrapped: each execution is a `node` step (and span) under the running
 * graph's step, active while the node's work runs; outside a task it calls straight through.
 *
 * The wrapper is an object whose prototype is the node's own runnable, with an `invoke` of its own
 * (the only method LangGraph calls on a node): code that inspects a graph's nodes — LangGraph's
 * supervisor reads `nodes.tools.bound.tools` — sees the same class (`instanceof ToolNode`), fields,
 * `lc_id`, name and serialisation as on the bare graph. A subclass of `Runnable` around it (as
 * before) hid all of those (found by running LangGraph's own tests on wrapped graphs).
 */
export function wardenNode<I, O>(inner: Runnable<I, O>, nodeName: string, correction?: Correction): Runnable<I, O> {
  // The inner runnable makes its own LangChain store before running node code (see `enterStep`).
  const light = makesOwnStore(inner);
  // A compiled graph (a subgraph node) gives its own nodes their task-call functions: its config's is not called.
  const callsTasks = !isGraph(inner);
  const node = Object.create(inner) as Runnable<I, O>;
  Object.defineProperty(node, "invoke", {
    configurable: true,
    writable: true,
    value: function invoke(input: I, config?: NodeConfig): Promise<O> {
      const parent = currentStep();
      if (!parent) return inner.invoke(input, config);
      // Where a breaker may abort the task: the graph's state, for the trip's data (`latestState`).
      if (parent.run.guard?.canStop) {
        const read = config?.configurable?.[CONFIG_KEY_READ];
        if (typeof read === "function") readers.set(parent, read as ChannelReader);
      }
      // Functional API tasks called from this node become steps too.
      const withTasks = callsTasks ? withTaskCalls(config) : config;
      return runAsNode(parent, nodeName, input, withTasks, light, (step) => {
        const pending = inner.invoke(input, withTasks);
        if (!correction) return pending;
        return pending.then((output) =>
          correct(correction, step, input, withTasks, output, (i, c) => inner.invoke(i as I, c as NodeConfig)),
        ) as Promise<O>;
      });
    },
  });
  return node;
}

/**
 * Runs `work` as a `node` step named `name` under `parent` (a graph node's execution, or a
 * functional API task's): the task's breakers are asked first, and the step is current while the
 * work runs.
 */
function runAsNode<O>(
  parent: Step,
  name: string,
  input: unknown,
  config: NodeConfig | undefined,
  light: boolean,
  work: (step: Step) => Promise<O>,
): Promise<O> {
  const run = parent.run;
  const superstep = config?.metadata?.langgraph_step;
  const attempt = config?.executionInfo?.nodeAttempt;
  const step = run.start("node", name, parent, (s) => {
    s.node = { name, attempt: typeof attempt === "number" ? attempt : 1 };
    if (typeof superstep === "number") s.node.superstep = superstep;
  });
  const decision = run.guard?.beforeNode(step, input);
  if (decision?.kind === "abort") {
    run.end(step, "error", { type: decision.error.code, message: decision.error.message });
    return Promise.reject(decision.error);
  }
  let pending: Promise<O>;
  try {
    pending = enterStep(step, () => work(step), light);
  } catch (error) {
    pending = Promise.reject(error);
  }
  return pending.then(
    (output) => {
      run.end(step, "ok");
      return output;
    },
    (error: unknown) => {
      const outcome = classify(error, config?.signal);
      if (outcome.status === "interrupted") step.addEvent("agentwarden.interrupt");
      run.end(step, outcome.status, outcome.error);
      throw error;
    },
  );
}

/**
 * LangGraph's `RunnableCallable` (every StateGraph node function, ToolNode, the prebuilt agents'
 * nodes) and compiled graphs run their work inside a LangChain store of their own
 * (`runWithConfig`, or the wrapped graph's own step): no node code runs in the node step's store.
 */
function makesOwnStore(inner: unknown): boolean {
  const r = inner as { func?: unknown; recurse?: unknown } | null;
  if (typeof r !== "object" || r === null) return false;
  if (typeof r.func === "function" && typeof r.recurse === "boolean") return true;
  return isGraph(inner);
}

/** A compiled LangGraph graph (Pregel). */
function isGraph(inner: unknown): boolean {
  const r = inner as { nodes?: unknown; channels?: unknown } | null;
  return (
    typeof r === "object" &&
    r !== null &&
    typeof r.nodes === "object" &&
    r.nodes !== null &&
    typeof r.channels === "object"
  );
}

/** LangGraph's functional API schedules a `task()` call through this function of the caller's config. */
const CONFIG_KEY_CALL = "__pregel_call";
type CallFn = (func: (...args: unknown[]) => unknown, name: string, args: unknown[], options?: unknown) => unknown;

type Stamp = new (target: object) => object;
/** Returns its argument: a base class whose subclass's constructor stamps an existing object. */
const Itself = function itself(this: unknown, target: object) {
  return target;
} as unknown as Stamp;

/**
 * Marks a task-call function agentwarden made with a private field: a brand check per node (as
 * cheap as a property read, where a WeakSet costs a lookup and an insert), and invisible to code
 * that lists the function's keys — LangGraph copies the config into a subgraph's `debug` and
 * `checkpoints` chunks, where a symbol key of ours used to show.
 */
class OurCall extends Itself {
  #ours = true;
  static has(fn: object): boolean {
    return #ours in fn;
  }
}

/**
 * The task-call function agentwarden puts in a node's config, bound to LangGraph's own (`this`):
 * named `bound call`, of length 3, as LangGraph's (`call.bind(runner, task)`).
 */
function call(this: CallFn, func: (...args: unknown[]) => unknown, name: string, args: unknown[], ...rest: unknown[]) {
  return this(typeof func === "function" ? taskBody(func, name) : func, name, args, ...rest);
}

/**
 * The config a node (or task) body runs with: LangGraph's task-call function in it wrapped, so that
 * each `task()` the body calls runs as a step. The function is replaced in place: LangGraph makes
 * the `configurable` that holds it for this one execution (`_runWithRetry` patches a fresh copy
 * with a call function bound to the task), so nothing else sees the change; copying the config
 * instead cost two object spreads per node execution (measured, README "Performance").
 */
function withTaskCalls<C extends NodeConfig | undefined>(config: C): C {
  const configurable = config?.configurable;
  const original = configurable?.[CONFIG_KEY_CALL] as CallFn | undefined;
  if (typeof original !== "function" || OurCall.has(original) || !configurable) return config;
  const wrapped = call.bind(original) as CallFn;
  new OurCall(wrapped);
  if (Object.isFrozen(configurable)) {
    return { ...config, configurable: { ...configurable, [CONFIG_KEY_CALL]: wrapped } } as C;
  }
  configurable[CONFIG_KEY_CALL] = wrapped;
  return config;
}

/**
 * A task's function, wrapped: it runs as a `node` step under the step that called the task, and
 * the tasks it calls in turn nest under it. Outside a task it calls straight through.
 */
function taskBody(func: (...args: unknown[]) => unknown, name: string) {
  return function wardenTask(this: unknown, ...args: unknown[]) {
    const parent = currentStep();
    if (!parent) return func.apply(this, args);
    // The task's own config (its metadata, attempt, and its own task-call function).
    const config = AsyncLocalStorageProviderSingleton.getRunnableConfig() as NodeConfig | undefined;
    const inner = withTaskCalls(config);
    // Not light: the task's function is user code, run directly in the step's store.
    return runAsNode(parent, name, args.length === 1 ? args[0] : args, config, false, async () =>
      inner === config || inner === undefined
        ? func.apply(this, args)
        : AsyncLocalStorageProviderSingleton.runWithConfig(inner as never, () => func.apply(this, args)),
    );
  };
}
