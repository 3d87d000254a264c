import { AIMessage, ToolMessage } from "@langchain/core/messages";
import { interrupt } from "@langchain/langgraph";
import {
  blockTask,
  type Decision,
  type GuardDecision,
  type GuardRule,
  type GuardsConfig,
  parseResume,
  type Run,
  runGuards,
  type Step,
  settleEscalation,
  type Trip,
} from "../../src/index.js";

/*
 * The guards' adapter: the core decides (`runGuards`: continue, block, redact, escalate), this
 * carries the decision out in LangChain and LangGraph terms — a refusal message, a rewritten copy
 * of a message (the caller's objects are never mutated), an `interrupt()` whose resume value is the
 * reviewer's answer.
 */

/*
 * Guards belong to a graph, and apply to the steps inside its runs: a guarded graph run inside
 * another (a subgraph node, or invoked from a node or tool of an outer graph wrapped by the same
 * Warden) keeps its guards there, after those of the graphs it runs in, which go on applying.
 */

/** The guards in force in a guarded graph step: those of the graphs it runs in, then its own. */
const scopes = new WeakMap<Step, GuardsConfig>();
/**
 * Per task with guards: the guards of its one guarded graph (its top-level one), or `NESTED` once a
 * nested graph brought guards of its own, when each step's are those of the graph step it runs in.
 * A task without guards has no entry: one lookup per model and tool call.
 */
const guardsOfRun = new WeakMap<Run, GuardsConfig>();
const NESTED: GuardsConfig = Object.freeze({});
/** The guards of a step in a task with guards, outside every guarded graph: none, but a block still ends it. */
const NONE: GuardsConfig = Object.freeze({});
/** A list of rules made of several graphs' lists, each checked on its own, in order (their labels their own). */
const partsOf = new WeakMap<readonly GuardRule[], readonly (readonly GuardRule[])[]>();
/** Per list of rules and task: messages already checked by the input guards, and the copy the model reads instead. */
const checkedInputs = new WeakMap<readonly GuardRule[], WeakMap<Run, WeakMap<object, object>>>();

/** Called when a graph wrapped with `guards` starts a run (`step`, the task's root or a nested graph step). */
export function setGraphGuards(step: Step, guards: GuardsConfig): void {
  const run = step.run;
  let outer: GuardsConfig | undefined;
  for (let s = step.parent; s && !outer; s = s.parent) outer = scopes.get(s);
  const inForce = outer ? compose(outer, guards) : guards;
  scopes.set(step, inForce);
  guardsOfRun.set(run, step === run.root ? inForce : NESTED);
}

/**
 * The guards that apply to `step` (a model or tool call): undefined in a task without guards, else
 * those of the nearest guarded graph step it runs in (`NONE` outside every guarded graph).
 */
export function guardsOf(step: Step): GuardsConfig | undefined {
  const own = guardsOfRun.get(step.run);
  if (own !== NESTED) return own;
  for (let s: Step | undefined = step; s; s = s.parent) {
    const inForce = scopes.get(s);
    if (inForce) return inForce;
  }
  return NONE;
}

/** `outer`'s guards, then `inner`'s, at each point. */
function compose(outer: GuardsConfig, inner: GuardsConfig): GuardsConfig {
  const out: GuardsConfig = {};
  for (const point of ["input", "tool", "output"] as const) {
    const a = outer[point];
    const b = inner[point];
    if (!a || !b) {
      const one = a ?? b;
      if (one) out[point] = one;
      continue;
    }
    const both = [...a, ...b];
    partsOf.set(both, [...(partsOf.get(a) ?? [a]), ...(partsOf.get(b) ?? [b])]);
    out[point] = both;
  }
  return out;
}

interface MessageLike {
  content?: unknown;
  tool_calls?: unknown[];
  getType?(): string;
  _getType?(): string;
}

function typeOf(m: unknown): string | undefined {
  const x = m as MessageLike | null;
  if (!x || typeof x !== "object") return undefined;
  try {
    return x.getType?.() ?? x._getType?.();
  } catch {
    return undefined;
  }
}

/** The text of a message content: a string, or the text parts of a list of parts. */
export function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content))
    return content
      .map((p) => (typeof p === "string" ? p : typeof p?.text === "string" ? (p.text as string) : ""))
      .join("");
  return "";
}

/** The refusal a blocked model call answers with: a final answer, so the agent ends. */
export function refusalResult(step: Step, refusal: string) {
  step.addEvent("agentwarden.guard.refusal");
  if (step.chat) step.chat.usage = { input: 0, output: 0 }; // no model was called
  return { generations: [[{ text: refusal, message: new AIMessage({ content: refusal }) }]], llmOutput: {} };
}

/**
 * Input guards before a model call: each user message not yet checked in this task is checked on
 * its own (`{ messages: [message] }`). Returns the prompts the model reads (copies where text was
 * redacted), or the refusal when a guard blocked. Tool results are checked where they are made,
 * at the tool funnel (`guardToolResult`).
 */
export async function guardModelInput(
  step: Step,
  rules: readonly GuardRule[],
  prompts: unknown,
): Promise<{ prompts: unknown } | { refusal: string }> {
  const parts = partsOf.get(rules);
  if (!parts) return modelInputWith(step, rules, prompts);
  let current = prompts;
  for (const part of parts) {
    const checked = await modelInputWith(step, part, current);
    if ("refusal" in checked) return checked;
    current = checked.prompts;
  }
  return { prompts: current };
}

async function modelInputWith(
  step: Step,
  rules: readonly GuardRule[],
  prompts: unknown,
): Promise<{ prompts: unknown } | { refusal: string }> {
  if (!Array.isArray(prompts)) return { prompts };
  const run = step.run;
  let byRun = checkedInputs.get(rules);
  if (!byRun) {
    byRun = new WeakMap();
    checkedInputs.set(rules, byRun);
  }
  const seen = byRun.get(run) ?? new WeakMap<object, object>();
  byRun.set(run, seen);
  let changed = false;
  const out: unknown[] = [];
  for (const prompt of prompts) {
    if (!Array.isArray(prompt)) {
      out.push(prompt);
      continue;
    }
    const messages: unknown[] = [];
    for (const m of prompt) {
      if (typeOf(m) !== "human" || typeof m !== "object" || m === null) {
        messages.push(m);
        continue;
      }
      let replacement = seen.get(m);
      if (replacement === undefined) {
        const text = textOf((m as MessageLike).content);
        const decision = await runGuards(step, "input", rules, {
          view: { messages: [m] },
          text,
          content: text,
        });
        const settled = await settle(decision, step, text);
        if ("refusal" in settled) return settled;
        const copy: object = settled.text === text ? m : (withContent(m, settled.text) as object);
        seen.set(m, copy);
        replacement = copy;
      }
      if (replacement !== m) changed = true;
      messages.push(replacement);
    }
    out.push(messages);
  }
  return { prompts: changed ? out : prompts };
}

/**
 * Output guards after a model call: each generation that is a final answer (unless `finalOnly` is
 * false) is checked with the conversation it answers (`{ messages: [...prompt, answer] }`). Returns
 * the result, with copies of the answers that were redacted or replaced by a refusal.
 */
export async function guardModelOutput(
  step: Step,
  rules: readonly GuardRule[],
  prompts: unknown,
  result: unknown,
): Promise<unknown> {
  const parts = partsOf.get(rules);
  if (!parts) return modelOutputWith(step, rules, prompts, result);
  // After a block the answer is the refusal, agentwarden's: no later guard judges it.
  const blocked = step.run.guardBlocked;
  let current = result;
  for (const part of parts) {
    current = await modelOutputWith(step, part, prompts, current);
    if (step.run.guardBlocked !== blocked) break;
  }
  return current;
}

async function modelOutputWith(
  step: Step,
  rules: readonly GuardRule[],
  prompts: unknown,
  result: unknown,
): Promise<unknown> {
  const r = result as { generations?: Array<Array<{ message?: unknown; text?: unknown }>> } | undefined;
  if (!r || !Array.isArray(r.generations)) return result;
  let generations = r.generations;
  for (let i = 0; i < generations.length; i++) {
    const g = generations[i]?.[0];
    const message = g?.message as MessageLike | undefined;
    if (!g || !message) continue;
    const final = !Array.isArray(message.tool_calls) || message.tool_calls.length === 0;
    const applicable = rules.filter((rule) => rule.finalOnly === false || final);
    if (applicable.length === 0) continue;
    const prompt = Array.isArray(prompts) && Array.isArray(prompts[i]) ? (prompts[i] as unknown[]) : [];
    const text = textOf(message.content);
    const decision = await runGuards(step, "output", applicable, {
      view: { messages: [...prompt, message] },
      text,
      content: text,
    });
    const settled = await settle(decision, step, text);
    const replaced =
      "refusal" in settled
        ? new AIMessage({ content: settled.refusal })
        : settled.text !== text
          ? withContent(message, settled.text)
          : undefined;
    if (!replaced) continue;
    if (generations === r.generations) generations = generations.map((list) => [...list]);
    (generations[i] as unknown[])[0] = { ...g, text: textOf((replaced as MessageLike).content), message: replaced };
  }
  return generations === r.generations ? result : { ...r, generations };
}

/**
 * Tool guards before a tool runs, on `{ name, args }`. Returns the arguments to run with (a
 * reviewer's edit), or the refusal when the call must not run.
 */
export async function guardToolCall(
  step: Step,
  rules: readonly GuardRule[],
  name: string,
  args: unknown,
): Promise<{ args: unknown } | { refusal: string }> {
  const parts = partsOf.get(rules);
  if (!parts) return toolCallWith(step, rules, name, args);
  let current = args;
  for (const part of parts) {
    const checked = await toolCallWith(step, part, name, current);
    if ("refusal" in checked) return checked;
    current = checked.args;
  }
  return { args: current };
}

async function toolCallWith(
  step: Step,
  rules: readonly GuardRule[],
  name: string,
  args: unknown,
): Promise<{ args: unknown } | { refusal: string }> {
  const text = safeJson(args);
  const decision = await runGuards(step, "tool", rules, {
    view: { name, args },
    text,
    content: { name, args },
  });
  if (decision.kind === "escalate") {
    const answer = escalate(decision);
    if (answer.action === "edit" && answer.args !== undefined) return { args: answer.args };
    if (answer.action === "reject") return reject(step, decision, answer.reason);
    return { args };
  }
  if (decision.kind === "block") {
    blockTask(step.run, decision);
    return { refusal: decision.refusal };
  }
  return { args };
}

/**
 * Input guards on a tool's result, where it is made: before ToolNode puts it into the state and
 * before any model reads it. Returns the output to hand on (a copy with redacted text), or the
 * refusal standing in for it when a guard blocked (the task then ends with the refusal).
 */
export async function guardToolResult(
  step: Step,
  rules: readonly GuardRule[],
  output: unknown,
  callId: string | undefined,
  name: string,
): Promise<unknown> {
  const parts = partsOf.get(rules);
  if (!parts) return toolResultWith(step, rules, output, callId, name);
  const blocked = step.run.guardBlocked;
  let current = output;
  for (const part of parts) {
    current = await toolResultWith(step, part, current, callId, name);
    if (step.run.guardBlocked !== blocked) break;
  }
  return current;
}

async function toolResultWith(
  step: Step,
  rules: readonly GuardRule[],
  output: unknown,
  callId: string | undefined,
  name: string,
): Promise<unknown> {
  const isMessage = typeof output === "object" && output !== null && "content" in output;
  const text = isMessage
    ? textOf((output as MessageLike).content)
    : typeof output === "string"
      ? output
      : safeJson(output);
  const view = {
    messages: [isMessage ? output : new ToolMessage({ content: text, tool_call_id: callId ?? "", name })],
  };
  const decision = await runGuards(step, "input", rules, { view, text, content: text });
  const settled = await settle(decision, step, text);
  const replacement = "refusal" in settled ? settled.refusal : settled.text;
  if (replacement === text && !("refusal" in settled)) return output;
  if (isMessage) return withContent(output, replacement);
  return callId !== undefined ? new ToolMessage({ content: replacement, tool_call_id: callId, name }) : replacement;
}

/** A decision on text carried out: the text to hand on, or the refusal. */
async function settle(
  decision: GuardDecision,
  step: Step,
  text: string,
): Promise<{ text: string } | { refusal: string }> {
  switch (decision.kind) {
    case "continue":
      return { text };
    case "redact":
      return { text: decision.content };
    case "block":
      blockTask(step.run, decision);
      return { refusal: decision.refusal };
    case "escalate": {
      const answer = escalate(decision);
      if (answer.action === "reject") return reject(step, decision, answer.reason);
      if (answer.action === "edit" && answer.content !== undefined) return { text: answer.content };
      return { text };
    }
  }
}

/**
 * Pauses the task with `interrupt(payload)`: the first time it throws LangGraph's GraphInterrupt
 * (the guard step ends `interrupted`); when the thread is resumed, LangGraph re-runs the step and
 * `interrupt()` returns the reviewer's answer.
 */
function escalate(decision: Extract<GuardDecision, { kind: "escalate" }>) {
  let value: unknown;
  try {
    value = interrupt(decision.payload);
  } catch (error) {
    settleEscalation(decision.step, "interrupted");
    throw error;
  }
  let answer: ReturnType<typeof parseResume>;
  try {
    answer = parseResume(value, decision.payload.guard);
  } catch (error) {
    if (decision.step) decision.step.run.end(decision.step, "error", { type: "TypeError", message: String(error) });
    throw error;
  }
  settleEscalation(decision.step, answer.action);
  return answer;
}

function reject(
  step: Step,
  decision: Extract<GuardDecision, { kind: "escalate" }>,
  reason: string | undefined,
): { refusal: string } {
  const refusal = reason ?? "A reviewer rejected this step.";
  blockTask(step.run, { finding: decision.finding, refusal });
  return { refusal };
}

/**
 * A breaker's `ask`: pauses the task with the trip's data; resumed, approval raises the limit for
 * the task and the call goes on, rejection trips as `abort` does.
 */
export function askBreaker(step: Step, decision: Extract<Decision, { kind: "ask" }>): Decision {
  const guard = step.run.guard;
  const value = interrupt(decision.payload) as { action?: unknown; limit?: unknown } | undefined;
  if (!guard) return undefined;
  const action = value?.action;
  if (action !== "approve" && action !== "reject")
    throw new TypeError(
      `agentwarden: a breaker's ask was resumed with ${safeJson(value)}; resume with Command({ resume: { action: "approve", limit? } }) or { action: "reject" }`,
    );
  return guard.answer(step, decision.trip as Trip, action === "approve", value?.limit);
}

/** A copy of a message with new text content (same class, ids, tool calls and metadata). */
function withContent(message: unknown, content: string): unknown {
  const m = message as Record<string, unknown>;
  const Ctor = (m.constructor ?? Object) as new (fields: Record<string, unknown>) => unknown;
  const fields: Record<string, unknown> = { content };
  for (const key of [
    "id",
    "name",
    "tool_call_id",
    "tool_calls",
    "invalid_tool_calls",
    "usage_metadata",
    "response_metadata",
    "additional_kwargs",
    "status",
    "artifact",
  ]) {
    if (m[key] !== undefined) fields[key] = m[key];
  }
  try {
    return new Ctor(fields);
  } catch {
    return { ...m, content };
  }
}

function safeJson(value: unknown): string {
  try {
    return typeof value === "string" ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    return String(value);
  }
}
