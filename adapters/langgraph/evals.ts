import { type Evaluator, runInStep, type Step, type StepError, toEvalResult } from "../../src/index.js";
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
      // A task a guard blocked answered with agentwarden's refusal: nothing of the agent's to judge.
      if (last && root.run.guardBlocked === undefined) {
        const failure = await evaluate(root, evaluators, last.value, "final");
        if (failure) onFailure(failure.error);
      }
      return r;
    },
    return: (value) => source.return(value),
    throw: (error) => source.throw(error),
  };
}

/** The first failing check of an evaluation. */
export interface EvalFailure {
  error: StepError;
  step: Step;
  name: string;
  reason: string | undefined;
  score: number | undefined;
  /** True when the evaluator threw (an eval error, not a verdict). */
  threw: boolean;
}

/**
 * Runs evaluators in order as `eval` steps under `parent` (each inside its step, so an LLM judge's
 * model call nests under it); returns the first failure. A throwing evaluator is an eval error.
 */
export async function evaluate(
  parent: Step,
  evaluators: Evaluator[],
  output: unknown,
  target: string,
): Promise<EvalFailure | undefined> {
  const run = parent.run;
  let first: EvalFailure | undefined;
  for (const evaluator of evaluators) {
    const step = run.start("eval", evaluator.name, parent, (s) => {
      s.eval = { name: evaluator.name, target };
    });
    let failure: EvalFailure | undefined;
    try {
      const result = toEvalResult(await runInStep(step, () => evaluator.evaluate(output)));
      Object.assign(step.eval ?? {}, result);
      if (!result.pass) {
        failure = {
          error: {
            type: "eval_failed",
            message: `evaluator ${evaluator.name} failed${result.reason ? `: ${result.reason}` : ""}`,
          },
          step,
          name: evaluator.name,
          reason: result.reason,
          score: result.score,
          threw: false,
        };
      }
    } catch (error) {
      const e = stepError(error);
      if (step.eval) step.eval.pass = false;
      failure = {
        error: { type: "eval_error", message: `evaluator ${evaluator.name} threw ${e.type}: ${e.message}` },
        step,
        name: evaluator.name,
        reason: undefined,
        score: undefined,
        threw: true,
      };
    }
    run.end(step, failure ? "error" : "ok", failure?.error);
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
