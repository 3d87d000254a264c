import { createHash } from "node:crypto";
import { nullTable } from "../tables.js";

/**
 * A loop: the same tool called with the same arguments `repeats` times within the last `window`
 * tool calls of a task, each earlier call having returned the same result (a call whose result
 * differs from the previous one's is progress, and restarts the count). By default a loop is only
 * detected and reported; `stop: true` makes it stop the task.
 */
export interface LoopOptions {
  /** Occurrences of the same call within the window that make a loop. Default 5 (`DEFAULT_LOOP_REPEATS`). */
  repeats?: number;
  /**
   * Stop a looping task: the looping call is answered with a hint instead of running (when `hint`),
   * and the next one trips the breaker (`onTrip`: abort or finalize). Default false: a loop is
   * reported (span event `agentwarden.loop.suspected`, the `agentwarden.loops.suspected` metric,
   * the task summary and the dashboard) and the task goes on exactly as it would unwrapped.
   */
  stop?: boolean;
  /** How many recent tool calls of the task are compared. Default 50. */
  window?: number;
  /** Also treat calls whose arguments differ only trivially (case, punctuation, spacing, word order) as the same. Default false. */
  nearDuplicates?: boolean;
  /** With `stop`: before tripping, answer the first looping call with a corrective hint instead of running it. Default true. */
  hint?: boolean;
  /** Also detect a node entered repeatedly with the same input state (a cycle making no progress); it trips with `stop`. Default false. */
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
  if (!near) {
    let flat: string | undefined;
    try {
      flat = flatCanonical(value);
    } catch {
      flat = undefined; // a getter that throws: the general walk says what it says of it
    }
    if (flat !== undefined) return flat;
  }
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
  return bounded(text);
}

/**
 * The common cases without the general walk: a string (a tool's text result) and a plain object
 * whose values are strings, finite numbers, booleans or null (a model's tool arguments). The text is
 * the general walk's, exactly: keys sorted, same JSON. Undefined for anything else.
 */
function flatCanonical(value: unknown): string | undefined {
  if (typeof value === "string") return bounded(JSON.stringify(value));
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return undefined;
  const keys = Object.keys(value);
  let text = "{";
  let previous: string | undefined;
  let sorted = true;
  for (const key of keys) {
    const v = (value as Record<string, unknown>)[key];
    const t = typeof v;
    if (t === "number" ? !Number.isFinite(v) : t !== "string" && t !== "boolean" && v !== null) return undefined;
    // Integer-like keys are ordered numerically by every object: the general walk's order.
    const first = key.charCodeAt(0);
    if (first >= 48 && first <= 57) return undefined;
    if (previous !== undefined && key < previous) sorted = false;
    previous = key;
  }
  if (!sorted) keys.sort();
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    text += `${i > 0 ? "," : ""}${JSON.stringify(key)}:${JSON.stringify((value as Record<string, unknown>)[key])}`;
  }
  return bounded(`${text}}`);
}

function bounded(text: string): string {
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

/** One occurrence of a key in a RepeatCounter's window: a call, counted once it has returned. */
export interface Occurrence {
  readonly key: string;
  returned: boolean;
}

/**
 * Counts repeats of the same key among the last `window` keys of one task. A tool call is recorded
 * when it starts (`open`) but counts only once it has returned (`close`): identical calls made in
 * parallel have seen no result of one another, so they are not a loop.
 */
export class RepeatCounter {
  private readonly recent: Occurrence[] = [];

  constructor(private readonly window: number) {}

  /** Records `key`, done at once (a node entered), and returns how many times it occurs in the window, this one included. */
  add(key: string): number {
    const o: Occurrence = { key, returned: true };
    this.push(o);
    return this.repeats(o);
  }

  /** Records a call of `key` that has not returned yet (it counts once `close`d). */
  open(key: string): Occurrence {
    const o: Occurrence = { key, returned: false };
    this.push(o);
    return o;
  }

  /** 1 + how many other occurrences of its key in the window have returned. */
  repeats(o: Occurrence): number {
    let n = 1;
    for (const r of this.recent) if (r !== o && r.returned && r.key === o.key) n++;
    return n;
  }

  private push(o: Occurrence): void {
    this.recent.push(o);
    if (this.recent.length > this.window) this.recent.shift();
  }

  /** Marks an occurrence returned: from now on it counts. */
  close(o: Occurrence): void {
    o.returned = true;
  }

  /** Forgets the returned occurrences of `kept`'s key but `kept` (a call whose result changed): the count starts again from it. */
  restart(kept: Occurrence): void {
    for (let i = this.recent.length - 1; i >= 0; i--) {
      const r = this.recent[i] as Occurrence;
      if (r !== kept && r.returned && r.key === kept.key) this.recent.splice(i, 1);
    }
  }
}
