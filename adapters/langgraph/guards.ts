import { createHash, createHmac, randomBytes } from "node:crypto";
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
  redactionMark,
  runGuards,
  type Step,
  settleEscalation,
  type Trip,
} from "../../src/index.js";
import { answerText, isStructuredAnswer, redactAnswer, withAnswer } from "./answers.js";

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
  const message = new AIMessage({ content: refusal });
  // A blocked user message: the refusal, the one answer, carries the decisions, for the thread's later turns.
  const records = decisionsOf.get(step);
  if (records && records.length > 1) decisionsOf.set(step, [Object.assign({}, ...records)]);
  const result = { generations: [[{ text: refusal, message }]], llmOutput: {} };
  return recordInputs(step, result) as typeof result;
}

/**
 * Input guards before a model call: each user message not yet checked in this task is checked on
 * its own (`{ messages: [message] }`). Returns the prompts the model reads (copies where text was
 * redacted), or the refusal when a guard blocked. Tool results are checked where they are made,
 * at the tool funnel (`guardToolResult`).
 *
 * A user message decided on an earlier turn of the thread is not checked again by the same guards:
 * the decision went into the state with the answer of the call that first read it (`recordInputs`),
 * and the model reads it as it was decided then — as sent, as redacted or edited, or
 * `[BLOCKED:{evaluator}]` in place of one that was blocked or rejected (the refusal that answered
 * it follows it).
 */
export async function guardModelInput(
  step: Step,
  rules: readonly GuardRule[],
  prompts: unknown,
): Promise<{ prompts: unknown } | { refusal: string }> {
  if (!Array.isArray(prompts)) return { prompts };
  const earlier = prompts.map((prompt) => (Array.isArray(prompt) ? recordsIn(prompt) : undefined));
  const decided: Array<InputRecords | undefined> = [];
  decisionsOf.set(step, decided);
  let current: unknown = prompts;
  for (const part of partsOf.get(rules) ?? [rules]) {
    const checked = await modelInputWith(step, part, current, earlier, decided);
    if ("refusal" in checked) return checked;
    current = checked.prompts;
  }
  return { prompts: current };
}

async function modelInputWith(
  step: Step,
  rules: readonly GuardRule[],
  prompts: unknown,
  earlier: ReadonlyArray<ReadonlyMap<string, InputRecord> | undefined>,
  decided: Array<InputRecords | undefined>,
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
  for (const [i, prompt] of prompts.entries()) {
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
        const id = (m as { id?: unknown }).id;
        const key = recordKey(rulesKey(rules), typeof id === "string" ? id : "", text);
        const record = earlier[i]?.get(key);
        let read = record?.read ?? text;
        if (!record) {
          const decision = await runGuards(step, "input", rules, {
            view: { messages: [m] },
            text,
            content: text,
          });
          const settled = await settle(decision, step, text, typeof id === "string" ? id : undefined);
          const own = decided[i] ?? {};
          decided[i] = own;
          if ("refusal" in settled) {
            own[key] = { read: blockedMark(decision.kind === "continue" ? "guard" : decision.finding.evaluator) };
            return settled;
          }
          read = settled.text;
          own[key] = read === text ? {} : { read };
        }
        const copy: object = read === text ? m : (withContent(m, read) as object);
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

/*
 * A user message's decision on the thread's later turns. The message is in the state as it was
 * sent: the input is written there before any node runs, and replacing it would take a write of
 * its own (a node's update, or `updateState`), which LangGraph runs as a step of the graph,
 * deciding what runs next. So the decision goes into the state with the answer of the model call
 * that first read the message — its `response_metadata.agentwarden.inputs`, keyed by a digest of
 * the guards (their actions and evaluators' names), the message's id and its text: `{}` read as
 * sent, `{ read }` read as `read` (redacted, edited, blocked). Each graph's guards of a nested
 * graph have their own (`partsOf`): a message decided by an outer graph's is checked by an inner
 * graph's, on the text the outer's left.
 */

/** What the model read for a user message: `read`, when not the message as sent. */
interface InputRecord {
  read?: string;
}
type InputRecords = Record<string, InputRecord>;

/** Per model call: the decisions on the user messages it was the first to read, by prompt. */
const decisionsOf = new WeakMap<Step, Array<InputRecords | undefined>>();

/** Per list of rules: what names it in a decision's key (actions and evaluators' names). */
const rulesKeys = new WeakMap<readonly GuardRule[], string>();

function rulesKey(rules: readonly GuardRule[]): string {
  let key = rulesKeys.get(rules);
  if (key === undefined) {
    key = JSON.stringify(rules.map((r) => [r.action, r.evaluators.map((e) => e.name)]));
    rulesKeys.set(rules, key);
  }
  return key;
}

/** What a blocked or rejected user message is read as on later turns. */
function blockedMark(evaluator: string): string {
  return `[BLOCKED:${evaluator}]`;
}

/** The decisions recorded on the answers of a conversation, by key. */
function recordsIn(prompt: readonly unknown[]): Map<string, InputRecord> | undefined {
  let out: Map<string, InputRecord> | undefined;
  for (const m of prompt) {
    if (typeOf(m) !== "ai") continue;
    const own = (m as { response_metadata?: Record<string, unknown> }).response_metadata?.agentwarden;
    const inputs = (own as { inputs?: unknown } | undefined)?.inputs;
    if (typeof inputs !== "object" || inputs === null) continue;
    for (const [key, record] of Object.entries(inputs)) {
      if (typeof record !== "object" || record === null) continue;
      const read = (record as InputRecord).read;
      out ??= new Map();
      out.set(key, typeof read === "string" ? { read } : {});
    }
  }
  return out;
}

/**
 * After a model call: its answers carry the decisions on the user messages it was the first to
 * read (`response_metadata.agentwarden.inputs`), for the thread's later turns.
 */
export function recordInputs(step: Step, result: unknown): unknown {
  const records = decisionsOf.get(step);
  if (!records) return result;
  decisionsOf.delete(step);
  const r = result as { generations?: Array<Array<{ message?: unknown; text?: unknown }>> } | undefined;
  if (!r || !Array.isArray(r.generations)) return result;
  let changed = false;
  const generations = r.generations.map((list, i) => {
    const own = records[i];
    const g = list?.[0];
    if (!own || Object.keys(own).length === 0 || !g?.message) return list;
    changed = true;
    return [{ ...g, message: withRecords(g.message, own) }, ...list.slice(1)];
  });
  return changed ? { ...r, generations } : result;
}

/** A copy of an answer whose `response_metadata.agentwarden.inputs` has `records` too. */
function withRecords(message: unknown, records: InputRecords): unknown {
  const m = message as { response_metadata?: Record<string, unknown> };
  const metadata = m.response_metadata ?? {};
  const own = (metadata.agentwarden ?? {}) as { inputs?: InputRecords };
  return withFields(message, {
    response_metadata: { ...metadata, agentwarden: { ...own, inputs: { ...own.inputs, ...records } } },
  });
}

/**
 * Output guards after a model call: each generation that is a final answer (a structured one
 * included: answers.ts; every generation when `finalOnly` is false) is checked with the
 * conversation it answers (`{ messages: [...prompt, answer] }`; an answer's tool calls' arguments
 * are part of its text). Returns the result, with copies of the answers that were redacted (text
 * and arguments) or replaced by a refusal.
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
    // A structured answer (tool calls no ToolNode runs: answers.ts) is a final answer too.
    const calls = Array.isArray(message.tool_calls) ? message.tool_calls : [];
    const final = calls.length === 0 || isStructuredAnswer(calls);
    const applicable = rules.filter((rule) => rule.finalOnly === false || final);
    if (applicable.length === 0) continue;
    const prompt = Array.isArray(prompts) && Array.isArray(prompts[i]) ? (prompts[i] as unknown[]) : [];
    const content = textOf(message.content);
    // With tool calls, their arguments are checked too (and the evaluators read them as the answer's text).
    const text = calls.length === 0 ? content : answerText(content, calls);
    const decision = await runGuards(step, "output", applicable, {
      view: { messages: [...prompt, text === content ? message : withContent(message, text)] },
      text,
      content: text,
    });
    const settled = await settle(decision, step, text);
    let replaced: unknown;
    // The refusal keeps the answer's id: a stream that has the one has the other (no second copy).
    if ("refusal" in settled)
      replaced = new AIMessage({ content: settled.refusal, id: (message as { id?: string }).id });
    else if (settled.text !== text && calls.length === 0) replaced = withContent(message, settled.text);
    else if (settled.text !== text) {
      const mark = redactionMark(decision.kind === "redact" ? decision.finding.evaluator : "guard");
      const answer = redactAnswer(content, calls, settled.text, mark);
      replaced = withAnswer(message, answer.content, answer.calls);
    }
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
  if (!rules.some((rule) => rule.action === "escalate")) return toolCallParts(step, rules, name, args);
  const done = takeTurn(step);
  try {
    return await toolCallParts(step, rules, name, args);
  } finally {
    done();
  }
}

/**
 * Per LangGraph task (the node step its tool calls run in): its tool calls' checks, chained in the
 * order they began. A task's answers come back by position, to its `interrupt()`s in the order
 * they are made: a call asks only after the calls that began before it are past their checks, so
 * the questions come in the order of the calls, not in that of their evaluators' latency, and an
 * answer comes back on resume to the call it was about.
 */
const checksOfTask = new WeakMap<Step, Promise<void>>();
/** Per tool call: the checks of the task's calls that began before it, which it lets ask first. */
const askAfter = new WeakMap<Step, Promise<void>>();

/** Queues a tool call's checks in its task; returns what ends them. */
function takeTurn(step: Step): () => void {
  const task = step.parent ?? step;
  const before = checksOfTask.get(task) ?? Promise.resolve();
  let done = () => {};
  const mine = new Promise<void>((resolve) => {
    done = resolve;
  });
  checksOfTask.set(
    task,
    before.then(() => mine),
  );
  askAfter.set(step, before);
  return done;
}

async function toolCallParts(
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
    await askAfter.get(step);
    const answer = escalate(decision, step.tool?.callId);
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
  const settled = await settle(decision, step, text, callId, callId === undefined);
  const replacement = "refusal" in settled ? settled.refusal : settled.text;
  if (replacement === text && !("refusal" in settled)) return output;
  if (isMessage) return withContent(output, replacement);
  return callId !== undefined ? new ToolMessage({ content: replacement, tool_call_id: callId, name }) : replacement;
}

/**
 * A decision on text carried out: the text to hand on, or the refusal. `id`: the tool call's or
 * the message's, which an escalation names (`EscalationPayload.id`); `ofContent`: whether its
 * answer is bound to the text too (see `escalate`).
 */
async function settle(
  decision: GuardDecision,
  step: Step,
  text: string,
  id?: string,
  ofContent = true,
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
      const answer = escalate(decision, id, ofContent);
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
 *
 * LangGraph hands a task's answers back by position, to its `interrupt()` calls in the order they
 * are made, so with checks running in parallel an answer may reach a step it was not about. The
 * payload names what it asks about (`id`, `digest`), the answer carries the digest (`bindResume`
 * adds it on resume), and an answer naming another step's digest is not taken: the step asks on,
 * taking the next answer, or pausing the task with its own question. The digest is of the guard,
 * the id and the content — a tool result's of the call alone (`ofContent` false): the tool runs
 * again on resume, and its result may differ from the one shown each time.
 */
function escalate(decision: Extract<GuardDecision, { kind: "escalate" }>, id?: string, ofContent = true) {
  const payload = decision.payload;
  if (id !== undefined) payload.id = id;
  payload.digest = digestOf(payload.guard, payload.point, id ?? "", ofContent ? safeJson(payload.content) : "");
  let value: unknown;
  try {
    do value = interrupt(payload);
    while (answersAnother(value, payload.digest));
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

/** A pending interrupt, as `getState()` lists it. */
interface PendingInterrupt {
  id?: string;
  value?: unknown;
}

/** The Wardens that wrapped a graph with a guard that escalates (asks a human). */
const escalating = new WeakSet<object>();

/**
 * Notes a wrapped graph's guards: once one of a Warden's graphs escalates, resumes of its wrapped
 * graphs bind their answers (`bindResume`, nested graphs included); until then a resume goes to
 * LangGraph as it does on the bare graph, without reading the thread's state first.
 */
export function noteGuards(warden: object, guards: GuardsConfig | undefined): void {
  if (!guards || escalating.has(warden)) return;
  const asks = [guards.input, guards.tool, guards.output].some((rules) =>
    rules?.some((rule) => rule.action === "escalate"),
  );
  if (asks) escalating.add(warden);
}

/** Whether a resume under `warden` needs its answers bound (see `noteGuards`). */
export function bindsResumes(warden: object): boolean {
  return escalating.has(warden);
}

/**
 * Runs a thread resumed with `Command({ resume })` (`start`), each of its answers bound to the guard
 * escalation it answers: the pending interrupts are read first (`getState`), and the answer to a
 * guard's gets that escalation's `digest` (unless it names one already), so that LangGraph, which
 * hands a task's answers back by position, cannot give it to another step (`escalate`). A bare
 * answer with several interrupts pending, which LangGraph gives to each, becomes one per interrupt
 * id, each bound. Reading the state fails: the answer goes as it was (`report`).
 */
export async function* bindResume(
  graph: { getState?(config: unknown): Promise<{ tasks?: Array<{ interrupts?: PendingInterrupt[] }> }> },
  input: unknown,
  config: { configurable?: Record<string, unknown> } | undefined,
  start: (input: unknown) => AsyncGenerator<unknown>,
  report: (error: unknown) => void,
): AsyncGenerator<unknown> {
  let bound = input;
  try {
    const state = await graph.getState?.({ configurable: config?.configurable });
    const pending = (state?.tasks ?? []).flatMap((task) => task.interrupts ?? []);
    bound = boundCommand(input, pending, config?.configurable?.__pregel_strict_resume === true);
  } catch (error) {
    report(error);
  }
  yield* start(bound);
}

function boundCommand(input: unknown, pending: readonly PendingInterrupt[], strict: boolean): unknown {
  const digestOfPending = (i: PendingInterrupt | undefined) => {
    const v = i?.value as { agentwarden?: unknown; digest?: unknown } | undefined;
    return v?.agentwarden === "guard" && typeof v.digest === "string" ? v.digest : undefined;
  };
  if (!pending.some((i) => digestOfPending(i) !== undefined)) return input;
  const bind = (answer: unknown, digest: string | undefined) =>
    digest !== undefined && isPlainObject(answer) && !("digest" in answer) ? { ...answer, digest } : answer;
  const command = input as { resume?: unknown; update?: unknown; goto?: unknown; graph?: unknown };
  const resume = command.resume;
  let next: unknown;
  const ids = isPlainObject(resume) ? Object.keys(resume) : [];
  if (ids.length > 0 && ids.every((id) => /^[0-9a-f]{32}$/.test(id))) {
    // Answers by interrupt id (LangGraph's resume map).
    next = Object.fromEntries(
      Object.entries(resume as Record<string, unknown>).map(([id, answer]) => [
        id,
        bind(answer, digestOfPending(pending.find((i) => i.id === id))),
      ]),
    );
  } else if (pending.length === 1) {
    next = bind(resume, digestOfPending(pending[0]));
  } else if (!strict && pending.every((i) => typeof i.id === "string")) {
    next = Object.fromEntries(pending.map((i) => [i.id, bind(resume, digestOfPending(i))]));
  } else return input;
  const Ctor = (input as { constructor: new (fields: Record<string, unknown>) => unknown }).constructor;
  return new Ctor({ resume: next, update: command.update, goto: command.goto, graph: command.graph });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * True when a resume value names an escalation other than `digest`'s: another digest, or a
 * `digest` that is not one (`42`), which names none.
 */
function answersAnother(value: unknown, digest: string): boolean {
  const named = (value as { digest?: unknown } | null | undefined)?.digest;
  return named !== undefined && named !== digest;
}

/**
 * The key of a user message's decision record: an HMAC of the guards, the message's id and its
 * text under a key of this process (or `AGENTWARDEN_GUARD_KEY`, shared by the workers that serve
 * the same threads). A record is taken only if the guards wrote it: one in a message history a
 * caller sends (an AI message with `response_metadata.agentwarden.inputs`) cannot name a key
 * without the secret, so the guards check that message as any other.
 */
function recordKey(...parts: string[]): string {
  return createHmac("sha256", RECORD_SECRET).update(JSON.stringify(parts)).digest("hex").slice(0, 32);
}

const RECORD_SECRET: Buffer = (() => {
  const shared = process.env.AGENTWARDEN_GUARD_KEY;
  return typeof shared === "string" && shared.length > 0 ? Buffer.from(shared, "utf8") : randomBytes(32);
})();

/** A hex digest of `parts`, 24 characters: binds an answer to what it was asked about (not a secret). */
function digestOf(...parts: string[]): string {
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex").slice(0, 24);
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
  let value: { action?: unknown; limit?: unknown; digest?: unknown } | undefined;
  // An answer naming a digest is a guard escalation's (see `escalate`), not this one's: ask on.
  do value = interrupt(decision.payload) as typeof value;
  while (value?.digest !== undefined);
  if (!guard) return undefined;
  const action = value?.action;
  if (action !== "approve" && action !== "reject")
    throw new TypeError(
      `agentwarden: a breaker's ask was resumed with ${safeJson(value)}; resume with Command({ resume: { action: "approve", limit? } }) or { action: "reject" }`,
    );
  return guard.answer(step, decision.trip as Trip, action === "approve", value?.limit);
}

/** A copy of a message with `fields` replaced (same class, ids, tool calls, content and metadata). */
function withFields(message: unknown, fields: Record<string, unknown>): unknown {
  const m = message as Record<string, unknown>;
  const Ctor = (m.constructor ?? Object) as new (fields: Record<string, unknown>) => unknown;
  const all: Record<string, unknown> = {};
  for (const key of [
    "content",
    "id",
    "name",
    "tool_calls",
    "invalid_tool_calls",
    "usage_metadata",
    "response_metadata",
    "additional_kwargs",
  ]) {
    if (m[key] !== undefined) all[key] = m[key];
  }
  Object.assign(all, fields);
  try {
    return new Ctor(all);
  } catch {
    return { ...m, ...fields };
  }
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
