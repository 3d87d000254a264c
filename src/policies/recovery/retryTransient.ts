import { ExponentialBackoff, handleWhen, retry } from "cockatiel";
import type { RetryConfig } from "./RecoveryConfig.js";

/** Thrown inside the retry policy to ask for another attempt. */
class Retryable<T> extends Error {
  constructor(readonly outcome: T) {
    super("transient failure");
  }
}

/**
 * Retries `attempt` while its outcome is a transient failure, with exponential backoff and jitter
 * (cockatiel), for at most `maxAttempts` in all counting the call that already failed. Returns the
 * last outcome; an error `attempt` throws (a trip, an abort) ends the retries and is thrown.
 */
export async function retryTransient<T>(
  config: RetryConfig,
  attempt: () => Promise<T>,
  isTransient: (outcome: T) => boolean,
  signal?: AbortSignal,
): Promise<T> {
  const policy = retry(
    handleWhen((e) => e instanceof Retryable),
    {
      // cockatiel counts retries after the policy's first run, which is itself the 2nd attempt.
      maxAttempts: config.maxAttempts - 2,
      backoff: new ExponentialBackoff({ initialDelay: config.initialDelayMs, maxDelay: config.maxDelayMs }),
    },
  );
  try {
    return await policy.execute(async () => {
      const outcome = await attempt();
      if (isTransient(outcome)) throw new Retryable(outcome);
      return outcome;
    }, signal);
  } catch (error) {
    if (error instanceof Retryable) return error.outcome as T;
    throw error;
  }
}
