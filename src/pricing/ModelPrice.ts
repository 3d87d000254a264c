/** USD per million tokens. `cacheRead`/`cacheWrite` default to `input` when omitted. */
export interface ModelPrice {
  input: number;
  output: number;
  cacheRead?: number;
  cacheWrite?: number;
}
