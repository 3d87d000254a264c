import { Runnable, type RunnableConfig } from "@langchain/core/runnables";
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
 * The state LangGraph last produced in the run of `graph` (a top-level graph step): its output
 * channels as they stand now, read through the reader its latest node was given. Between
 * supersteps that is the state last emitted as `values`, whatever the consumer has received so far.
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
 * graph's step, active while the node's work runs. Outside a task it calls straight through.
 */
export class WardenNode<I = unknown, O = unknown> extends Runnable<I, O> {
  lc_namespace = ["agentwarden", "langgraph"];

  constructor(
    readonly inner: Runnable<I, O>,
    readonly nodeName: string,
    readonly correction?: Correction,
  ) {
    super();
    this.name = inner.name ?? nodeName;
  }

  override invoke(input: I, config?: NodeConfig): Promise<O> {
    const parent = currentStep();
    if (!parent) return this.inner.invoke(input, config);
    const run = parent.run;
    const superstep = config?.metadata?.langgraph_step;
    const attempt = config?.executionInfo?.nodeAttempt;
    const step = run.start("node", this.nodeName, parent, (s) => {
      s.node = { name: this.nodeName, attempt: typeof attempt === "number" ? attempt : 1 };
      if (typeof superstep === "number") s.node.superstep = superstep;
    });
    if (run.guard && parent === run.root) {
      const read = config?.configurable?.[CONFIG_KEY_READ];
      if (typeof read === "function") readers.set(parent, read as ChannelReader);
    }
    const decision = run.guard?.beforeNode(step, input);
    if (decision?.kind === "abort") {
      run.end(step, "error", { type: decision.error.code, message: decision.error.message });
      return Promise.reject(decision.error);
    }
    let pending: Promise<O>;
    try {
      pending = enterStep(step, () => this.inner.invoke(input, config));
      const correction = this.correction;
      if (correction) {
        pending = pending.then((output) =>
          enterStep(step, () =>
            correct(correction, step, input, config, output, (i, c) => this.inner.invoke(i as I, c as NodeConfig)),
          ),
        ) as Promise<O>;
      }
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
}
