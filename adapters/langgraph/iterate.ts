import { runInStep, type Step } from "../../src/index.js";

/**
 * An async iterator whose every `next`, `return` and `throw` runs inside `step` (AsyncLocalStorage
 * and the step's OpenTelemetry context). Needed because a generator's body runs in the context of
 * whoever calls `next()`, not of whoever created it. `onDone` is called once, when the iteration
 * completes, throws, or is closed early by the consumer.
 */
export function iterateIn<T>(
  step: Step,
  source: AsyncIterator<T>,
  onDone: (how: "done" | "error" | "closed", error?: unknown) => void,
): AsyncGenerator<T> {
  let finished = false;
  const finish = (how: "done" | "error" | "closed", error?: unknown) => {
    if (finished) return;
    finished = true;
    onDone(how, error);
  };
  const settle = async (call: () => Promise<IteratorResult<T>>, closing: boolean): Promise<IteratorResult<T>> => {
    try {
      const result = await runInStep(step, call);
      if (result.done) finish("done");
      else if (closing) finish("closed");
      return result;
    } catch (error) {
      finish("error", error);
      throw error;
    }
  };
  const iterator: AsyncGenerator<T> = {
    next: (...args: [] | [unknown]) => settle(() => source.next(...args), false),
    return: (value?: unknown) => {
      if (finished || !source.return) {
        finish("closed");
        return Promise.resolve({ done: true, value: value as T });
      }
      return settle(() => (source.return as NonNullable<typeof source.return>)(value as T), true).then((r) => {
        finish("closed");
        return r;
      });
    },
    throw: (error?: unknown) => {
      if (!source.throw) {
        finish("error", error);
        return Promise.reject(error);
      }
      return settle(() => (source.throw as NonNullable<typeof source.throw>)(error), false);
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
