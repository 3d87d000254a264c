import { currentStep, type Step, type Trip } from "../../src/index.js";

/** Shared by the model and tool funnels: patching a prototype method once, finding the parent step. */

const patched = Symbol.for("agentwarden.patched");

export type AnyFn = (this: unknown, ...args: never[]) => unknown;
export type Proto = Record<PropertyKey, unknown>;

export function patch(proto: Proto, method: string, make: (original: AnyFn) => AnyFn): void {
  const original = proto[method] as AnyFn | undefined;
  if (typeof original !== "function" || (original as unknown as Proto)[patched]) return;
  const replacement = make(original);
  Object.defineProperty(replacement, patched, { value: original });
  proto[method] = replacement;
}

/** The step a model or tool call belongs to: the current one (LangChain's context carries it). */
export function parentOf(): Step | undefined {
  return currentStep();
}

/** What the agent is told when a breaker made it stop: the reason, and to answer now. */
export function stopText(trip: Trip): string {
  return `agentwarden stopped this task: ${trip.reason}. No further model or tool calls will run; this is the final answer.`;
}
