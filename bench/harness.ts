/** Interleaved A/B timing: every round runs each variant once, in a rotating order. */
export interface Variant {
  name: string;
  run: () => Promise<void>;
  /** Runs before each of this variant's samples, untimed (e.g. patching a module in). */
  before?: () => void;
  /** Runs after each of this variant's samples, untimed (e.g. patching it out again). */
  after?: () => void;
}

export interface RatioFigure {
  /** Median over rounds of (variant time / baseline time). */
  median: number;
  min: number;
  max: number;
  p25: number;
  p75: number;
  rounds: number;
}

export async function interleave(
  variants: Variant[],
  options: { rounds: number; perRound: number; warmup: number; clock?: "wall" | "cpu"; collect?: boolean },
): Promise<Record<string, number[]>> {
  const clock = options.clock === "cpu" ? cpuMs : () => performance.now();
  // Off by default: a full collection before each sample makes its first run a cold one (measured
  // on the peers run: 26.5 ms bare instead of 7.7 ms warm) and widens the spread; the rotation
  // charges each variant for its own garbage over the rounds instead.
  const collect = options.collect ? (globalThis as { gc?: () => void }).gc : undefined;
  const times: Record<string, number[]> = Object.fromEntries(variants.map((v) => [v.name, []]));
  for (let round = -options.warmup; round < options.rounds; round++) {
    const order = rotate(variants, (round + options.warmup) % variants.length);
    for (const v of order) {
      // A collection before each sample charges every variant for its own garbage only.
      v.before?.();
      collect?.();
      const start = clock();
      for (let i = 0; i < options.perRound; i++) await v.run();
      const elapsed = clock() - start;
      v.after?.();
      if (round >= 0) times[v.name]?.push(elapsed / options.perRound);
    }
  }
  return times;
}

export function ratios(times: Record<string, number[]>, variant: string, baseline: string): RatioFigure {
  const a = times[variant] ?? [];
  const b = times[baseline] ?? [];
  const r = a.map((t, i) => t / (b[i] ?? Number.NaN)).sort((x, y) => x - y);
  return {
    median: round(quantile(r, 0.5)),
    min: round(r[0] ?? Number.NaN),
    max: round(r[r.length - 1] ?? Number.NaN),
    p25: round(quantile(r, 0.25)),
    p75: round(quantile(r, 0.75)),
    rounds: r.length,
  };
}

export function median(values: number[]): number {
  return quantile(
    [...values].sort((x, y) => x - y),
    0.5,
  );
}

export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (pos - lo);
}

export function round(x: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function rotate<T>(list: T[], by: number): T[] {
  return [...list.slice(by), ...list.slice(0, by)];
}

/** CPU time of this process (user + system), in milliseconds: unaffected by time the machine gives other processes. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}
