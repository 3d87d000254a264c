import { Runnable, type RunnableConfig } from "@langchain/core/runnables";
import { currentStep, runInStep } from "../../src/index.js";
import { classify } from "./control.js";

interface NodeConfig extends RunnableConfig {
  executionInfo?: { nodeAttempt?: number };
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
  ) {
    super();
    this.name = inner.name ?? nodeName;
  }

  override async invoke(input: I, config?: NodeConfig): Promise<O> {
    const parent = currentStep();
    if (!parent) return this.inner.invoke(input, config);
    const run = parent.run;
    const superstep = config?.metadata?.langgraph_step;
    const attempt = config?.executionInfo?.nodeAttempt;
    const step = run.start("node", this.nodeName, parent, (s) => {
      s.node = { name: this.nodeName, attempt: typeof attempt === "number" ? attempt : 1 };
      if (typeof superstep === "number") s.node.superstep = superstep;
    });
    return runInStep(step, async () => {
      try {
        const output = await this.inner.invoke(input, config);
        run.end(step, "ok");
        return output;
      } catch (error) {
        const outcome = classify(error, config?.signal);
        if (outcome.status === "interrupted") step.addEvent("agentwarden.interrupt");
        run.end(step, outcome.status, outcome.error);
        throw error;
      }
    });
  }
}
