/**
 * Token usage of one model call, or the sum over a task. Cache figures are part of `input`
 * (as providers report them), broken out so they can be priced separately.
 */
export interface TokenUsage {
  input: number;
  output: number;
  /** Input tokens read from the provider's prompt cache. */
  cacheRead?: number;
  /** Input tokens written to the provider's prompt cache. */
  cacheWrite?: number;
}

/** Adds `b` into `a` in place. */
export function addUsage(a: TokenUsage, b: TokenUsage): void {
  a.input += b.input;
  a.output += b.output;
  if (b.cacheRead !== undefined) a.cacheRead = (a.cacheRead ?? 0) + b.cacheRead;
  if (b.cacheWrite !== undefined) a.cacheWrite = (a.cacheWrite ?? 0) + b.cacheWrite;
}
