import { describe } from "../configError.js";
import type { TokenUsage } from "../run/usage.js";
import { DEFAULT_PRICES } from "./defaultPrices.js";
import type { ModelPrice } from "./ModelPrice.js";

export type { ModelPrice } from "./ModelPrice.js";

const PER_TOKEN = 1 / 1_000_000;

/**
 * Model prices: the dated defaults, overridden and extended by the user's entries. Looks a model up
 * by exact id, then by the longest entry that is a prefix followed by `-` and a digit (a dated
 * snapshot), after dropping any provider prefix (`openai/gpt-4o`, `models/gemini-2.5-pro`).
 */
export class PriceTable {
  private readonly prices: Map<string, Required<ModelPrice>>;
  private readonly cache = new Map<string, Required<ModelPrice> | null>();

  constructor(
    overrides: Readonly<Record<string, ModelPrice>> = {},
    defaults: Readonly<Record<string, ModelPrice>> = DEFAULT_PRICES,
  ) {
    this.prices = new Map();
    for (const [model, price] of Object.entries({ ...defaults, ...overrides })) {
      this.prices.set(model.toLowerCase(), complete(model, price));
    }
  }

  /** The price of a model, or undefined when it is not in the table (its cost is then unknown). */
  lookup(model: string): Required<ModelPrice> | undefined {
    const cached = this.cache.get(model);
    if (cached !== undefined) return cached ?? undefined;
    const found = this.find(model);
    if (this.cache.size < 10_000) this.cache.set(model, found ?? null);
    return found;
  }

  /**
   * The cost of a call in USD, or undefined when the model has no price. Cache figures are part of
   * `input` (as providers and LangChain report them): the uncached rest is priced as input.
   */
  cost(model: string, usage: TokenUsage): number | undefined {
    const p = this.lookup(model);
    if (!p) return undefined;
    const cacheRead = usage.cacheRead ?? 0;
    const cacheWrite = usage.cacheWrite ?? 0;
    const uncached = Math.max(0, usage.input - cacheRead - cacheWrite);
    return (
      (uncached * p.input + cacheRead * p.cacheRead + cacheWrite * p.cacheWrite + usage.output * p.output) * PER_TOKEN
    );
  }

  private find(model: string): Required<ModelPrice> | undefined {
    const id = model.toLowerCase().slice(model.lastIndexOf("/") + 1);
    const exact = this.prices.get(id);
    if (exact) return exact;
    let best: string | undefined;
    for (const key of this.prices.keys()) {
      if (id.length > key.length && id.startsWith(key) && /^-\d/.test(id.slice(key.length))) {
        if (!best || key.length > best.length) best = key;
      }
    }
    return best ? this.prices.get(best) : undefined;
  }
}

const PRICE_FIELDS: readonly string[] = ["input", "output", "cacheRead", "cacheWrite"];

/** Validates one entry; a negative or non-numeric price is rejected naming the model and field. */
function complete(model: string, price: ModelPrice): Required<ModelPrice> {
  if (typeof price !== "object" || price === null) {
    throw new TypeError(
      `agentwarden: option prices.${model} is invalid: price for model "${model}" must be an object { input, output, cacheRead?, cacheWrite? }`,
    );
  }
  const unknown = Object.keys(price).filter((k) => !PRICE_FIELDS.includes(k));
  if (unknown.length > 0) {
    throw new TypeError(`agentwarden: unknown option ${unknown.map((k) => `prices.${model}.${k}`).join(", ")}`);
  }
  const check = (field: keyof ModelPrice, required: boolean): number | undefined => {
    const v = price[field];
    if (v === undefined && !required) return undefined;
    if (typeof v !== "number" || Number.isNaN(v)) {
      throw new TypeError(
        `agentwarden: option prices.${model}.${field} is invalid: price for model "${model}": ${field} must be a number of USD per million tokens, got ${describe(v)}`,
      );
    }
    if (v < 0 || !Number.isFinite(v)) {
      throw new RangeError(
        `agentwarden: option prices.${model}.${field} is invalid: price for model "${model}": ${field} must be a finite number >= 0, got ${v}`,
      );
    }
    return v;
  };
  const input = check("input", true) as number;
  const output = check("output", true) as number;
  return {
    input,
    output,
    cacheRead: check("cacheRead", false) ?? input,
    cacheWrite: check("cacheWrite", false) ?? input,
  };
}
