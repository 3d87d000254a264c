import { type Evaluator, type Step, type StepError, toEvalResult } from "../../src/index.js";
import { stepError } from "./control.js";

interface StreamOptions {
  streamMode?: unknown;
}

/**
 * Wraps a top-level graph run's iterator so that, when the run completes, each final evaluator
 * runs on the last state (an `eval` step each) before the consumer sees the end. `onFailure` gets
 * the first failure, which makes the task a failure.
 */
export function runFinalEvals(
  source: AsyncGenerator<unknown>,
  root: Step,
  evaluators: Evaluator[],
  options: StreamOptions | undefined,
  onFailure: (error: StepError) => void,
): AsyncIterator<unknown> {
  const mode = options?.streamMode ?? "values";
  let last: { value: unknown } | undefined;
  return {
    async next(...args: [] | [unknown]) {
      const r = await source.next(...args);
      if (!r.done) {
        const state = valuesOf(r.value, mode);
        if (state) last = state;
        return r;
      }
      if (last) {
        const failure = await evaluate(root, evaluators, last.value, "final");
        if (failure) onFailure(failure);
      }
      return r;
    },
    return: (value) => source.return(value),
    throw: (error) => source.throw(error),
  };
}

/** Runs evaluators in order as `eval` steps under `parent`; returns the first failure. */
export async function evaluate(
  parent: Step,
  evaluators: Evaluator[],
  output: unknown,
  target: string,
): Promise<StepError | undefined> {
  const run = parent.run;
  let first: StepError | undefined;
  for (const evaluator of evaluators) {
    const step = run.start("eval", evaluator.name, parent, (s) => {
      s.eval = { name: evaluator.name, target };
    });
    let failure: StepError | undefined;
    try {
      const result = toEvalResult(await evaluator.evaluate(output));
      Object.assign(step.eval ?? {}, result);
      if (!result.pass) {
        failure = {
          type: "eval_failed",
          message: `evaluator ${evaluator.name} failed${result.reason ? `: ${result.reason}` : ""}`,
        };
      }
    } catch (error) {
      const e = stepError(error);
      if (step.eval) step.eval.pass = false;
      failure = { type: "eval_error", message: `evaluator ${evaluator.name} threw ${e.type}: ${e.message}` };
    }
    run.end(step, failure ? "error" : "ok", failure);
    first ??= failure;
  }
  return first;
}

/** The state carried by a stream chunk, when the run streams `values`. */
export function valuesOf(chunk: unknown, mode: unknown): { value: unknown } | undefined {
  if (mode === "values") return { value: chunk };
  if (
    Array.isArray(mode) &&
    mode.includes("values") &&
    Array.isArray(chunk) &&
    chunk.length === 2 &&
    chunk[0] === "values"
  ) {
    return { value: chunk[1] };
  }
  return undefined;
}
