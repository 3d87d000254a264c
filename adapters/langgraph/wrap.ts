import type { Runnable } from "@langchain/core/runnables";
import {
  type BreakerTripError,
  currentStep,
  type Evaluator,
  type GraphInfo,
  type GuardsConfig,
  isBreakerTrip,
  parseGuards,
  parseLimits,
  type Run,
  type Step,
  type StepError,
  type SubgraphState,
  splitReask,
  type TaskGuard,
  type Warden,
} from "../../src/index.js";
import { classify } from "./control.js";
import type { Correction } from "./correct.js";
import { runFinalEvals, valuesOf } from "./evals.js";
import { bindResume, bindsResumes, noteGuards, setGraphGuards } from "./guards.js";
import { instrumentLangChain, instrumentToolInstance } from "./instrument.js";
import { iterateIn } from "./iterate.js";
import { latestState, wardenNode } from "./node.js";
import { enterStep } from "./scope.js";

export interface WrapOptions {
  /** The Warden whose runs, policies and subscribers this graph reports to. */
  warden: Warden;
  /**
   * Low-cardinality name of the workflow or agent (`gen_ai.workflow.name` / `gen_ai.agent.name`).
   * Default: the graph's own name when it was given one; else none (the ledger and dashboard say
   * `"agent"` or `"workflow"`, spans carry no name attribute and are named by their operation alone).
   */
  name?: string;
  /**
   * `agent` for an LLM-driven agent (`invoke_agent` spans), `workflow` for other graphs
   * (`invoke_workflow`). Default: `agent` for `createAgent` agents and graphs with a `ToolNode`.
   */
  kind?: "agent" | "workflow";
  /**
   * Evaluators of the task's final output (the graph's last state, for `invoke` and `stream` in
   * `values` mode). A task whose final output fails one is a failure, though the call returns
   * normally. Default none.
   */
  finalEvals?: Evaluator[];
  /**
   * Eval-driven correction loops: a node's output is checked and, while a check fails, the node is
   * run again with a corrective message naming the failed check. Default none.
   */
  corrections?: Correction[];
  /**
   * The prompt or agent version every task of this graph runs with (`gen_ai.agent.version` on the
   * agent span, `agentwarden.version` on each span of the task, `version` in its summary and on its
   * metrics), so that versions can be compared. An invoke may give its own in
   * `configurable.agentwarden.version`. Default none.
   */
  version?: string;
  /**
   * Guard points, each a list of `{ evaluators, action }` checked in order: `input` (what a model
   * call is about to read: the user's input, each tool result), `tool` (a tool call's arguments
   * before it runs), `output` (a model's final answer; `finalOnly: false` for every output).
   * Actions: `block`, `redact` (input, output), `escalate` (input, tool: needs a checkpointer).
   * Default none: nothing runs on the hot path.
   */
  guards?: GuardsConfig;
}

/** The parts of a compiled LangGraph graph (Pregel) the wrapper touches. */
interface PregelLike {
  name?: string;
  nodes: Record<string, NodeLike>;
  withConfig(config: Record<string, unknown>): PregelLike;
  _streamIterator(input: unknown, options?: StreamOptions): AsyncGenerator<unknown>;
  getState?(config: unknown): Promise<{ tasks?: Array<{ interrupts?: Array<{ value?: unknown }> }> }>;
  checkpointer?: unknown;
  [wrappedBy]?: Warden;
}

interface NodeLike {
  bound?: unknown;
  subgraphs?: unknown[];
}

interface StreamOptions {
  configurable?: Record<string, unknown>;
  signal?: AbortSignal;
  streamMode?: unknown;
}

/** A langchain v1 `createAgent()` agent: a ReactAgent holding a compiled graph. */
interface AgentLike {
  readonly graph: PregelLike;
  withConfig(config: Record<string, unknown>): AgentLike;
  options?: { name?: string };
}

const wrappedBy = Symbol.for("agentwarden.wrappedBy");
const DEFAULT_GRAPH_NAME = "LangGraph";

/**
 * Wraps a compiled LangGraph graph (`StateGraph.compile()`, `createReactAgent()`, a functional API
 * `entrypoint()`) or a langchain `createAgent()` agent so that each top-level run is a task in the
 * Warden's ledger: one graph step, a step per node execution and per functional API `task()` call,
 * and model and tool call steps inside them. Returns a copy that keeps the input's type and
 * behaviour (`invoke`, `stream` in every mode, `streamEvents`, `batch`, state and checkpoint
 * methods, `withConfig` copies, which stay wrapped); the graph passed in is left untouched.
 */
export function wrapGraph<G>(graph: G, options: WrapOptions): G {
  const { warden, name, kind, finalEvals = [], corrections: given = [], version } = checkOptions(options);
  const pregel = isAgent(graph) ? graph.graph : isPregel(graph) ? graph : undefined;
  const checkpointed =
    pregel?.checkpointer !== undefined && pregel.checkpointer !== null && pregel.checkpointer !== false;
  // `reask` output guards are the correction loop on the model node: one correction each.
  const { guards, reask } = splitReask(parseGuards(options.guards, checkpointed));
  noteGuards(warden, guards);
  const corrections = [
    ...given,
    ...reask.map((r) => ({
      evaluators: r.evaluators,
      ...(r.maxAttempts !== undefined ? { maxAttempts: r.maxAttempts } : {}),
      ...(r.finalOnly !== undefined ? { finalOnly: r.finalOnly } : {}),
    })),
  ];
  if (warden.options.onTrip === "ask" && pregel && !checkpointed) {
    throw new TypeError(
      'agentwarden: the Warden\'s option onTrip is "ask", which pauses the task with interrupt(): the graph needs a checkpointer (compile({ checkpointer }))',
    );
  }
  instrumentLangChain();
  if (isAgent(graph)) {
    const owner = graph.graph[wrappedBy];
    if (owner === warden) return graph;
    if (owner)
      throw new TypeError("agentwarden: this agent is already wrapped by another Warden; wrap the original agent");
    return wrapAgent(graph, warden, {
      name: name ?? graph.options?.name ?? graph.graph.name,
      kind: kind ?? "agent",
      finalEvals,
      corrections,
      version,
      guards,
    }) as G;
  }
  if (isPregel(graph)) {
    const owner = graph[wrappedBy];
    if (owner === warden) return graph;
    if (owner)
      throw new TypeError("agentwarden: this graph is already wrapped by another Warden; wrap the original graph");
    return wrapPregel(graph, warden, { name, kind, finalEvals, corrections, version, guards }) as G;
  }
  throw new TypeError(
    `agentwarden: wrapGraph() expects a compiled LangGraph graph (StateGraph.compile(), createReactAgent(), entrypoint()) or a langchain createAgent() agent, got ${describe(graph)}`,
  );
}

interface Wanted {
  name: string | undefined;
  kind: "agent" | "workflow" | undefined;
  finalEvals: Evaluator[];
  corrections: Correction[];
  version: string | undefined;
  guards: GuardsConfig | undefined;
}

type PregelClass = abstract new (...args: never[]) => PregelLike;

/**
 * A wrapped copy of a compiled graph: an instance of a subclass of the graph's own class whose
 * `_streamIterator` (the one funnel under `invoke`, `stream`, `streamEvents` and `batch`) opens the
 * task, and whose node table holds wrapped nodes. Pregel's copy methods (`withConfig`) rebuild the
 * instance through `this.constructor` from its fields: a copy of the copy is of the same subclass,
 * with the same nodes, so it stays wrapped.
 */
function wrapPregel(graph: PregelLike, warden: Warden, wanted: Wanted): PregelLike {
  // withConfig() makes a real instance of the graph's class (its private fields intact) that
  // shares the nodes object: the copy gets its own nodes.
  const first = graph.withConfig({});
  const resolved = resolve(first, wanted);
  first.nodes = wrapNodes(first.nodes, warden, wanted.corrections);
  const Wrapped = wardenClass(graph.constructor as PregelClass, warden, resolved);
  // Built through the graph's own copy path, so the result is constructed as a Wrapped instance.
  Object.setPrototypeOf(first, Wrapped.prototype);
  return first.withConfig({});
}

/**
 * A `createAgent()` agent keeps its graph in a private field and builds a fresh graph in
 * `withConfig()`: the copy's graph is instrumented in place, and the copy's `withConfig` wraps the
 * agent it returns, so copies stay wrapped.
 */
function wrapAgent(agent: AgentLike, warden: Warden, wanted: Wanted): AgentLike {
  return instrumentAgent(agent.withConfig({}), agent.withConfig, warden, wanted);
}

/** Instruments a fresh agent (one no caller holds) in place. */
function instrumentAgent(copy: AgentLike, copyOf: AgentLike["withConfig"], warden: Warden, wanted: Wanted) {
  const graph = copy.graph;
  const resolved = resolve(graph, wanted);
  graph.nodes = wrapNodes(graph.nodes, warden, wanted.corrections);
  Object.setPrototypeOf(graph, wardenClass(graph.constructor as PregelClass, warden, resolved).prototype);
  Object.defineProperty(copy, "withConfig", {
    value: (config: Record<string, unknown>) => instrumentAgent(copyOf.call(copy, config), copyOf, warden, wanted),
    configurable: true,
    writable: true,
  });
  return copy;
}

interface Resolved extends Wanted {
  name: string;
  kind: "agent" | "workflow";
  /** No name of its own: the ledger calls it by its kind, the telemetry leaves the name unset. */
  anonymous: boolean;
}

function resolve(graph: PregelLike, wanted: Wanted): Resolved {
  const kind = wanted.kind ?? (hasToolNode(graph) ? "agent" : "workflow");
  const given = wanted.name ?? (graph.name && graph.name !== DEFAULT_GRAPH_NAME ? graph.name : undefined);
  // No name of its own: the ledger calls it by its kind, the telemetry leaves the name unset.
  return { ...wanted, kind, name: given ?? kind, anonymous: given === undefined };
}

function wardenClass(Base: PregelClass, warden: Warden, wanted: Resolved): PregelClass {
  const { kind, name, anonymous } = wanted;
  const original = (Base.prototype as PregelLike)._streamIterator;
  function wardenGraphRun(this: PregelLike, input: unknown, options?: StreamOptions) {
    const info: GraphInfo = anonymous ? { name, anonymous: true } : { name };
    const configurable = options?.configurable;
    const threadId = configurable?.thread_id;
    if (typeof threadId === "string" || typeof threadId === "number") info.conversationId = String(threadId);
    const parent = currentStep();
    let step: Step;
    let guard: TaskGuard | undefined;
    let signal = options?.signal;
    let unlink: (() => void) | undefined;
    if (parent) {
      // A graph run inside a task: the task's options hold. Its own, when it was given some, are
      // refused unless they are the task's (LangGraph passes the task's configurable on).
      const own = configurable?.agentwarden;
      if (own !== undefined && own !== taskOptions.get(parent.run)) checkNestedOptions(own, parent.run, name);
      step = parent.run.start(kind, name, parent, (s) => {
        s.graph = info;
      });
      guard = parent.run.guard;
      const decision = guard?.beforeGraph(step);
      if (decision?.kind === "abort") {
        step.run.end(step, "error", { type: decision.error.code, message: decision.error.message });
        throw decision.error;
      }
      // Open while it runs, so that a trip keeps its state (`subgraphStates`).
      if (guard?.canStop) openGraphs(step.run).set(step, (this as { outputChannels?: unknown }).outputChannels);
      if (wanted.guards) setGraphGuards(step, wanted.guards);
    } else {
      const own = (configurable?.agentwarden ?? undefined) as
        | { limits?: unknown; tenant?: unknown; version?: unknown }
        | undefined;
      if (own !== undefined) checkInvokeOptions(own);
      const version =
        own?.version === undefined ? wanted.version : checkVersion(own.version, "configurable.agentwarden.version");
      if (version !== undefined) info.version = version;
      const limits = own?.limits === undefined ? undefined : parseLimits(own.limits, "configurable.agentwarden.limits");
      const run = warden.startTask(kind, info);
      step = run.root;
      if (own !== undefined) taskOptions.set(run, own);
      if (run.keepOutput) run.input = input;
      guard = warden.guard(run, limits, {
        agent: name,
        ...(info.conversationId !== undefined ? { threadId: info.conversationId } : {}),
        ...(own?.tenant !== undefined ? { tenant: own.tenant as string } : {}),
      });
      if (wanted.guards) setGraphGuards(step, wanted.guards);
      if (guard?.canStop) {
        // A trip aborts the run through its AbortSignal: LangGraph stops every node, ToolNode
        // cannot swallow it, a RetryPolicy does not retry it.
        // The caller's signal (LangGraph's own, under invoke and stream) is linked by a listener,
        // removed when the run ends: AbortSignal.any costs more on every listener LangGraph adds
        // to the run's signal (measured, README "Performance").
        const controller = new AbortController();
        guard.abort = (error) => {
          keepSubgraphStates(error, run);
          controller.abort(error);
        };
        const outer = signal;
        if (outer?.aborted) controller.abort(outer.reason);
        else if (outer) {
          const follow = () => controller.abort(outer.reason);
          outer.addEventListener("abort", follow, { once: true });
          unlink = () => outer.removeEventListener("abort", follow);
        }
        signal = controller.signal;
      }
    }
    const mode = options?.streamMode ?? "values";
    let lastValues: { value: unknown } | undefined;
    // The final state is kept for an online evaluator only when it may sample this task.
    const keep = !parent && step.run.keepOutput;
    if (guard && !parent) {
      const outputChannels = (this as { outputChannels?: unknown }).outputChannels;
      guard.partialState = () => latestState(step, outputChannels) ?? lastValues?.value;
    }
    // The run's config is the caller's (only the signal is ours, when a breaker may abort the run):
    // the step rides in LangChain's context, entered around every step of the iteration below.
    const config = signal === options?.signal ? options : { ...options, signal };
    // A thread resumed after a breaker's `ask`: the paused task's spending carries over, so the
    // same limit trips again and the reviewer's answer applies to it.
    const mayAsk = warden.options.onTrip === "ask" || typeof warden.options.onTrip === "function";
    const resumesAsk =
      mayAsk && !parent && guard && threadId !== undefined && isResume(input) && typeof this.getState === "function";
    // A thread resumed after guard escalations: each answer bound to the step it answers (guards.ts).
    const resumed =
      bindsResumes(warden) &&
      !parent &&
      threadId !== undefined &&
      isResume(input) &&
      typeof this.getState === "function";
    const begin = resumed
      ? () =>
          bindResume(
            this,
            input,
            config,
            (bound) => original.call(this, bound, config),
            (error) => warden.reportError(error, "langgraph:resume"),
          )
      : () => original.call(this, input, config);
    const inner = resumesAsk && guard ? carryOver(this, guard, config, begin) : begin();
    let interrupted = false;
    let evalFailure: StepError | undefined;
    // Only a top-level run is evaluated, and only when there are evaluators: otherwise the
    // graph's own iterator is used as it is.
    const source =
      wanted.finalEvals.length > 0 && !parent
        ? runFinalEvals(inner, step, wanted.finalEvals, options, (e) => {
            evalFailure = e;
          })
        : inner;
    return iterateIn(
      // Light: only LangGraph's loop runs in this store (see enterStep).
      <R>(fn: () => R): R => enterStep(step, fn, true),
      source,
      (how, error) => {
        unlink?.();
        const run = step.run;
        if (parent) openGraphsOf.get(run)?.delete(step);
        if (how === "error") {
          const outcome = classify(error, options?.signal);
          run.end(step, outcome.status, outcome.error);
        } else if (how === "closed") {
          run.end(step, "cancelled");
        } else if (evalFailure) {
          if (keep) run.output = lastValues?.value;
          run.end(step, "error", evalFailure);
        } else {
          if (keep) run.output = lastValues?.value;
          run.end(step, interrupted || childInterrupted(step) ? "interrupted" : "ok");
        }
      },
      (value) => {
        if (!interrupted && carriesInterrupt(value)) interrupted = true;
        if ((guard && !parent) || keep) lastValues = valuesOf(value, mode) ?? lastValues;
      },
      // After an abort trip LangGraph rejects with a bare "Abort": the caller gets the trip error.
      guard && !parent ? (error: unknown) => tripErrorFor(guard, error) : undefined,
    );
  }
  class Wrapped extends Base {}
  Object.defineProperty(Wrapped, "name", { value: Base.name });
  Object.defineProperty(Wrapped.prototype, "_streamIterator", {
    value: wardenGraphRun,
    writable: true,
    configurable: true,
  });
  Object.defineProperty(Wrapped.prototype, wrappedBy, { value: warden });
  return Wrapped;
}

/** Model nodes of the prebuilt agents: where corrections apply when they name no node. */
const MODEL_NODES = ["agent", "model_request"];

function wrapNodes(
  nodes: Record<string, NodeLike>,
  warden: Warden,
  corrections: Correction[],
): Record<string, NodeLike> {
  const wrapped: Record<string, NodeLike> = {};
  for (const [key, node] of Object.entries(nodes)) {
    const bound = node.bound as Runnable | PregelLike | undefined;
    if (key.startsWith("__") || !bound || typeof (bound as Runnable).invoke !== "function" || isPassthrough(bound)) {
      wrapped[key] = node;
      continue;
    }
    // A plain copy of the PregelNode (same class, own fields copied), not Object.create(node):
    // an instance used as a prototype turns slow for V8 on the path LangGraph reads every superstep.
    const copy = Object.assign(Object.create(Object.getPrototypeOf(node)) as NodeLike, node);
    let inner = bound as Runnable;
    if (isPregel(bound)) {
      // A compiled subgraph used as a node: wrap it too, so its nodes nest under this node's step.
      // One already wrapped by this Warden is used as it is: wrapped twice, each run would open two
      // graph steps and each node two node steps (limits would count them twice).
      const owner = bound[wrappedBy];
      if (owner !== undefined && owner !== warden) {
        throw new TypeError(
          `agentwarden: the subgraph of node ${JSON.stringify(key)} is already wrapped by another Warden; wrap the original graph`,
        );
      }
      const sub =
        owner === warden
          ? bound
          : wrapPregel(bound, warden, {
              name: undefined,
              kind: undefined,
              finalEvals: [],
              corrections: [],
              version: undefined,
              guards: undefined,
            });
      inner = sub as unknown as Runnable;
      copy.subgraphs = [sub];
    }
    for (const tool of toolsOf(bound)) instrumentToolInstance(tool);
    const correction = corrections.find((c) => (c.node === undefined ? MODEL_NODES.includes(key) : c.node === key));
    copy.bound = wardenNode(inner, key, correction);
    wrapped[key] = copy;
  }
  return wrapped;
}

/** A `Command({ resume })` input: the caller resumes an interrupted thread. */
function isResume(input: unknown): boolean {
  return (
    typeof input === "object" &&
    input !== null &&
    (input as { lg_name?: unknown }).lg_name === "Command" &&
    (input as { resume?: unknown }).resume !== undefined
  );
}

/** Reads the thread's pending breaker `ask` (its interrupt payload) before the resumed run starts. */
async function* carryOver(
  graph: PregelLike,
  guard: TaskGuard,
  config: StreamOptions | undefined,
  start: () => AsyncGenerator<unknown>,
): AsyncGenerator<unknown> {
  try {
    const state = await graph.getState?.({ configurable: config?.configurable });
    for (const task of state?.tasks ?? []) {
      for (const i of task.interrupts ?? []) {
        const v = i.value as
          | { agentwarden?: unknown; spentUsd?: unknown; tokens?: unknown; kind?: unknown; observed?: unknown }
          | undefined;
        if (v?.agentwarden === "breaker") guard.carryOver(v);
      }
    }
  } catch (error) {
    guard.run.warden.reportError(error, "langgraph:resume");
  }
  yield* start();
}

/** Per task whose breakers may abort it: its nested graph steps still running, with their output channels. */
const openGraphsOf = new WeakMap<Run, Map<Step, unknown>>();

function openGraphs(run: Run): Map<Step, unknown> {
  let open = openGraphsOf.get(run);
  if (!open) {
    open = new Map();
    openGraphsOf.set(run, open);
  }
  return open;
}

/**
 * A trip's `partialState` is the task's graph's state; a trip inside nested graphs (a subgraph
 * node, a wrapped graph invoked from a node or tool) also keeps theirs, which the task's graph has
 * not received yet: `subgraphStates`, each nested graph still running, outermost first, with the
 * state LangGraph last produced in it.
 */
function keepSubgraphStates(error: BreakerTripError, run: Run): void {
  const open = openGraphsOf.get(run);
  if (!open || open.size === 0) return;
  const states: SubgraphState[] = [];
  for (const [graph, outputChannels] of open) {
    if (graph.status !== "running") continue;
    const state = latestState(graph, outputChannels);
    if (state !== undefined) states.push({ graph: graph.name, state });
  }
  if (states.length > 0) error.data.subgraphStates = states;
}

/** True when a chunk of the top-level stream reports an interrupt (`__interrupt__`), in any stream mode. */
function carriesInterrupt(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (Array.isArray(value)) return value.length > 0 && carriesInterrupt(value[value.length - 1]);
  return Object.hasOwn(value, "__interrupt__");
}

function childInterrupted(step: Step): boolean {
  return step.children.some((c) => c.status === "interrupted");
}

/** A graph with a ToolNode, or the prebuilt agents' model node, is an LLM-driven agent. */
function hasToolNode(graph: PregelLike): boolean {
  return Object.entries(graph.nodes).some(([key, n]) => toolsOf(n.bound).length > 0 || MODEL_NODES.includes(key));
}

function toolsOf(bound: unknown): unknown[] {
  const b = bound as { tools?: unknown; handleToolErrors?: unknown } | undefined;
  return b && Array.isArray(b.tools) && "handleToolErrors" in b ? b.tools : [];
}

function isPassthrough(bound: unknown): boolean {
  return (bound as { constructor?: { name?: string } }).constructor?.name === "RunnablePassthrough";
}

function isPregel(x: unknown): x is PregelLike {
  const g = x as (Partial<PregelLike> & { channels?: unknown }) | null | undefined;
  return (
    typeof g === "object" &&
    g !== null &&
    typeof g.nodes === "object" &&
    g.nodes !== null &&
    typeof g.channels === "object" &&
    typeof g._streamIterator === "function" &&
    typeof g.withConfig === "function"
  );
}

function isAgent(x: unknown): x is AgentLike {
  if (typeof x !== "object" || x === null || isPregel(x)) return false;
  let graph: unknown;
  try {
    graph = (x as { graph?: unknown }).graph;
  } catch {
    return false;
  }
  return isPregel(graph) && typeof (x as { withConfig?: unknown }).withConfig === "function";
}

/** The keys of `WrapOptions`. */
const WRAP_OPTIONS: ReadonlySet<string> = new Set([
  "warden",
  "name",
  "kind",
  "finalEvals",
  "corrections",
  "version",
  "guards",
]);

function checkOptions(options: WrapOptions): WrapOptions {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("agentwarden: wrapGraph(graph, options) needs options with a `warden`");
  }
  // A misspelt option (`guard` for `guards`) would silently leave a safeguard off: refused.
  const unknown = Object.keys(options).filter((k) => !WRAP_OPTIONS.has(k));
  if (unknown.length > 0) {
    throw new TypeError(
      `agentwarden: unknown wrapGraph option ${unknown.join(", ")} (options: ${[...WRAP_OPTIONS].join(", ")})`,
    );
  }
  const w = options.warden as Partial<Warden> | undefined;
  if (typeof w?.startTask !== "function") {
    throw new TypeError(`agentwarden: option warden must be a Warden, got ${describe(options.warden)}`);
  }
  if (options.name !== undefined && (typeof options.name !== "string" || options.name.length === 0)) {
    throw new TypeError(`agentwarden: option name must be a non-empty string, got ${describe(options.name)}`);
  }
  if (
    options.finalEvals !== undefined &&
    (!Array.isArray(options.finalEvals) ||
      options.finalEvals.some((e) => typeof e?.name !== "string" || typeof e?.evaluate !== "function"))
  ) {
    throw new TypeError(
      "agentwarden: option finalEvals must be an array of evaluators { name: string, evaluate(output) }",
    );
  }
  if (options.corrections !== undefined) {
    const shape = "an array of { node?, evaluators: [{ name, evaluate }] (at least one), maxAttempts?: integer >= 1 }";
    if (!Array.isArray(options.corrections))
      throw new TypeError(`agentwarden: option corrections must be ${shape}, got ${describe(options.corrections)}`);
    options.corrections.forEach((c, i) => {
      const at = `corrections[${i}]`;
      if (
        !Array.isArray(c?.evaluators) ||
        c.evaluators.length === 0 ||
        c.evaluators.some((e) => typeof e?.name !== "string" || typeof e?.evaluate !== "function")
      )
        throw new TypeError(
          `agentwarden: option ${at}.evaluators must be a non-empty array of { name, evaluate }, got ${describe(c?.evaluators)}`,
        );
      if (c.maxAttempts !== undefined && (!Number.isInteger(c.maxAttempts) || c.maxAttempts < 1))
        throw new RangeError(
          `agentwarden: option ${at}.maxAttempts must be an integer >= 1, got ${describe(c.maxAttempts)}`,
        );
    });
  }
  if (options.version !== undefined) checkVersion(options.version, "version");
  if (options.kind !== undefined && options.kind !== "agent" && options.kind !== "workflow") {
    throw new TypeError(`agentwarden: option kind must be "agent" or "workflow", got ${describe(options.kind)}`);
  }
  return options;
}

/** The keys of `configurable.agentwarden`. */
const INVOKE_OPTIONS: ReadonlySet<string> = new Set(["limits", "tenant", "version"]);

/**
 * `configurable.agentwarden` of one invoke: an object of known keys (a misspelt `tenent` would
 * silently skip the tenant's shared budget), its tenant a string.
 */
function checkInvokeOptions(own: unknown): void {
  if (typeof own !== "object" || own === null || Array.isArray(own)) {
    throw new TypeError(
      `agentwarden: configurable.agentwarden must be an object { limits?, tenant?, version? }, got ${describe(own)}`,
    );
  }
  const unknown = Object.keys(own).filter((k) => !INVOKE_OPTIONS.has(k));
  if (unknown.length > 0) {
    throw new TypeError(
      `agentwarden: unknown option ${unknown.map((k) => `configurable.agentwarden.${k}`).join(", ")} (options: limits, tenant, version)`,
    );
  }
  const tenant = (own as { tenant?: unknown }).tenant;
  if (tenant !== undefined && (typeof tenant !== "string" || tenant.length === 0)) {
    throw new TypeError(
      `agentwarden: option configurable.agentwarden.tenant must be a non-empty string, got ${describe(tenant)}`,
    );
  }
}

/** The `configurable.agentwarden` a task was invoked with: what LangGraph passes on to the graphs inside it. */
const taskOptions = new WeakMap<Run, unknown>();

/**
 * `configurable.agentwarden` given to a graph run inside a task (not the task's own, passed on):
 * checked as a task's are, then refused, naming the key, where it cannot hold. Limits, a tenant and
 * a version are the task's; a tenant or version equal to the task's is taken (it holds already).
 */
function checkNestedOptions(own: unknown, run: Run, graph: string): void {
  checkInvokeOptions(own);
  const o = own as { limits?: unknown; tenant?: unknown; version?: unknown };
  const where = `graph ${JSON.stringify(graph)} runs inside a task of ${JSON.stringify(run.root.name)} (nested)`;
  const refuse = (key: string, why: string) =>
    new TypeError(`agentwarden: option configurable.agentwarden.${key} cannot apply here: ${where}, ${why}`);
  if (o.limits !== undefined)
    throw refuse("limits", "and limits hold for a whole task; give them to the top-level invoke or to the Warden");
  const task = taskOptions.get(run) as { tenant?: unknown } | undefined;
  if (o.tenant !== undefined && o.tenant !== task?.tenant)
    throw refuse("tenant", `whose tenant is ${quoted(task?.tenant)}; give it to the top-level invoke`);
  if (o.version !== undefined) {
    const version = checkVersion(o.version, "configurable.agentwarden.version");
    const taskVersion = run.root.graph?.version;
    if (version !== taskVersion)
      throw refuse("version", `whose version is ${quoted(taskVersion)}; give it to the top-level invoke`);
  }
}

function quoted(value: unknown): string {
  return value === undefined ? "none" : JSON.stringify(value);
}

/** Longest version string accepted: a version is a label (`v12`, a date, a git sha), not content. */
const MAX_VERSION_LENGTH = 128;

function checkVersion(version: unknown, field: string): string {
  if (typeof version !== "string" || version.length === 0 || version.length > MAX_VERSION_LENGTH) {
    throw new TypeError(
      `agentwarden: option ${field} must be a non-empty string of at most ${MAX_VERSION_LENGTH} characters, got ${describe(version)}`,
    );
  }
  return version;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) return value.length === 0 ? "an empty array" : "an array";
  if (typeof value === "function") return `a function${value.name ? ` (${value.name})` : ""}`;
  if (typeof value !== "object") return `${typeof value} ${JSON.stringify(value) ?? String(value)}`;
  const ctor = (value as { constructor?: { name?: string } }).constructor?.name;
  return ctor && ctor !== "Object" ? `an instance of ${ctor}` : "a plain object";
}

function tripErrorFor(guard: TaskGuard, error: unknown): unknown {
  const trip = guard.tripError;
  if (!trip || isBreakerTrip(error)) return error;
  if (trip.cause === undefined && error !== trip)
    Object.defineProperty(trip, "cause", { value: error, configurable: true });
  return trip;
}
