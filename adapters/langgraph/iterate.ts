/** Runs a function inside some context (a step's OpenTelemetry context) and returns its result. */
export type Enter = <R>(fn: () => R) => R;

export type Ending = "done" | "error" | "closed";

/**
 * An async iterator whose every `next`, `return` and `throw` runs inside `enter` (the step's
 * OpenTelemetry context). Needed because a generator's body runs in the context of whoever calls
 * `next()`, not of whoever created it. `onValue` sees each value; `onDone` is called once, when the
 * iteration completes, throws, or is closed early by the consumer; `mapError` may replace an error
 * before the consumer sees it.
 */
export function iterateIn<T>(
  enter: Enter,
  source: AsyncIterator<T>,
  onDone: (how: Ending, error?: unknown) => void,
  onValue?: (value: T) => void,
  mapError?: (error: unknown) => unknown,
): AsyncGenerator<T> {
  let finished = false;
  const finish = (how: Ending, error?: unknown) => {
    if (finished) return;
    finished = true;
    onDone(how, error);
  };
  const settle = (call: () => Promise<IteratorResult<T>>, closing: boolean): Promise<IteratorResult<T>> => {
    let pending: Promise<IteratorResult<T>>;
    try {
      pending = enter(call);
    } catch (error) {
      pending = Promise.reject(error);
    }
    return pending.then(
      (result) => {
        if (result.done) finish("done");
        else if (closing) finish("closed");
        else onValue?.(result.value);
        return result;
      },
      (error: unknown) => {
        const thrown = mapError ? mapError(error) : error;
        finish("error", thrown);
        throw thrown;
      },
    );
  };
  const iterator: AsyncGenerator<T> = {
    next: (...args: [] | [unknown]) => settle(() => source.next(...args), false),
    return: (value?: unknown) => {
      if (finished || !source.return) {
        finish("closed");
        return Promise.resolve({ done: true, value: value as T });
      }
      const close = source.return.bind(source);
      return settle(() => close(value as T), true).then((r) => {
        finish("closed");
        return r;
      });
    },
    throw: (error?: unknown) => {
      if (!source.throw) {
        finish("error", error);
        return Promise.reject(error);
      }
      const raise = source.throw.bind(source);
      return settle(() => raise(error), false);
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
