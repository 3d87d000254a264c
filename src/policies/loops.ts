import { createHash } from "node:crypto";
import { nullTable } from "../tables.js";

export interface LoopOptions {
  /** Occurrences of the same call within the window that make a loop. Default 5 (`DEFAULT_LOOP_REPEATS`). */
  repeats?: number;
  /** How many recent tool calls of the task are compared. Default 50. */
  window?: number;
  /** Also treat calls whose arguments differ only trivially (case, punctuation, spacing, word order) as the same. Default false. */
  nearDuplicates?: boolean;
  /** Before tripping, answer the first looping call with a corrective hint instead of running it. Default true. */
  hint?: boolean;
  /** Also trip when a node is entered repeatedly with the same input state (a cycle making no progress). Default false. */
  stateCycles?: boolean;
}

export const DEFAULT_LOOP_REPEATS = 5;
export const DEFAULT_LOOP_WINDOW = 50;

let unserializable = 0;

/**
 * JSON with object keys sorted, so `{a,b}` and `{b,a}` are the same call. Bounded in size. Values
 * JSON cannot carry keep their identity: bigints, Dates (their `toJSON`), Maps and Sets (their
 * entries). A value that cannot be read at all is never the same as another.
 */
export function canonical(value: unknown, near = false): string {
  const seen = new WeakSet<object>();
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return near ? normalizeText(v) : v;
    if (typeof v === "bigint") return `${v}n`;
    if (typeof v !== "object" || v === null) return v;
    if (seen.has(v)) return "[Circular]";
    seen.add(v);
    if (typeof (v as { toJSON?: unknown }).toJSON === "function") return walk((v as { toJSON(): unknown }).toJSON());
    if (Array.isArray(v)) return v.map(walk);
    if (v instanceof Map) return { "[Map]": [...v].map(walk) };
    if (v instanceof Set) return { "[Set]": [...v].map(walk) };
    // No prototype: an argument key "__proto__" is kept like any other, not swallowed by the setter.
    const out = nullTable<unknown>();
    for (const key of Object.keys(v).sort()) out[key] = walk((v as Record<string, unknown>)[key]);
    return out;
  };
  let text: string;
  try {
    text = JSON.stringify(walk(value)) ?? "undefined";
  } catch {
    text = `[Unserializable ${++unserializable}]`;
  }
  return text.length > 512 ? createHash("sha1").update(text).digest("base64") : text;
}

/** Lowercase, punctuation and extra spaces removed, words sorted: "Vector DB, query!" ≈ "query vector db". */
export function normalizeText(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s]+/gu, " ")
    .split(/\s+/)
    .filter(Boolean)
    .sort()
    .join(" ");
}

/** Counts repeats of the same key among the last `window` keys of one task. */
export class RepeatCounter {
  private readonly recent: string[] = [];

  constructor(private readonly window: number) {}

  /** Records `key` and returns how many times it occurs in the window, this one included. */
  add(key: string): number {
    this.recent.push(key);
    if (this.recent.length > this.window) this.recent.shift();
    let n = 0;
    for (const k of this.recent) if (k === key) n++;
    return n;
  }
}
