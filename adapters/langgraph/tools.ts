import { ToolMessage } from "@langchain/core/messages";
import { RunnableToolLike } from "@langchain/core/runnables";
import { toJsonSchema } from "@langchain/core/utils/json_schema";
import {
  boundedName,
  correctiveText,
  type Decision,
  type FailureClass,
  failureClass,
  type GuardRule,
  handlerText,
  planRecovery,
  type RecoveryAction,
  type RecoveryConfig,
  retryTransient,
  type Step,
  type StepError,
} from "../../src/index.js";
import { classify } from "./control.js";
import { type AnyFn, type Proto, parentOf, patch, stopText } from "./funnel.js";
import { askBreaker, guardsOf, guardToolCall, guardToolResult, textOf } from "./guards.js";
import { type HeldToolCallbacks, holdToolCallbacks } from "./held.js";
import { enterStep } from "./scope.js";

interface ToolConfig {
  toolCall?: { id?: unknown };
  signal?: AbortSignal;
  configurable?: Record<string, unknown>;
}

interface ToolLike {
  name?: unknown;
  description?: unknown;
  schema?: unknown;
  invoke(input: unknown, config?: unknown): Promise<unknown>;
}

/** One tool call as the funnel saw it. */
interface Call {
  tool: ToolLike;
  name: string;
  arg: unknown;
  args: unknown;
  callId: string | undefined;
  config: ToolConfig | undefined;
  tags: unknown;
  original: AnyFn;
  parent: Step;
  /** Set once the tool guards have checked this call. */
  guarded?: boolean;
  /** The callback events of each attempt, held while the input guards check its result (see `held.ts`). */
  held?: HeldToolCallbacks[];
}

type Attempt =
  | { kind: "ok"; output: unknown }
  | { kind: "refused"; output: unknown }
  | {
      kind: "failed";
      step: Step;
      error: StepError;
      cls: FailureClass;
      thrown?: unknown;
      output?: unknown;
      held?: HeldToolCallbacks;
    };

/**
 * The tool funnel: every LangChain tool call (`StructuredTool.prototype.call`) inside a task is a
 * `tool` step, checked by the task's breakers and run through the tool's circuit breaker. With
 * `recovery` on, a failed call gets the recovery steps the core plans (`planRecovery`), cheapest
 * first: retries of a transient failure, a fallback tool, the user's handler, and a corrective
 * message the model can act on; this funnel carries them out. Every retry counts against the breakers.
 *
 * A tool made with `Runnable.asTool()` is no StructuredTool (a `RunnableToolLike`, which ToolNode,
 * `createReactAgent` and `createAgent` take as they take any tool): ToolNode calls its `invoke`,
 * which gets the same funnel, on `RunnableToolLike.prototype` only, so other runnables and
 * StructuredTools pay nothing for it.
 */
export function instrumentToolClass(proto: Proto): void {
  patch(proto, "call", toolFunnel);
  patch(RunnableToolLike.prototype as unknown as Proto, "invoke", toolFunnel);
}

function toolFunnel(original: AnyFn): AnyFn {
  return function wardenToolCall(this: unknown, ...args: never[]) {
    const [arg, config, tags] = args as unknown as [unknown, ToolConfig | undefined, unknown];
    const parent = parentOf();
    if (!parent) return original.apply(this, args);
    const tool = this as ToolLike;
    const toolCall = isToolCall(arg) ? arg : undefined;
    const c: Call = {
      tool,
      name: typeof tool.name === "string" ? boundedName(tool.name) : "tool",
      arg,
      args: toolCall ? toolCall.args : arg,
      callId: toolCall?.id ?? (typeof config?.toolCall?.id === "string" ? config.toolCall.id : undefined),
      config,
      tags,
      original,
      parent,
    };
    return callTool(c);
  };
}

/**
 * A call whose results the input guards check holds each attempt's callback events (`held.ts`)
 * until the call has settled: what the guards allowed of an attempt's result is released when they
 * decide; an error, once the call settles on it — the error it throws (the tool's, or the copy the
 * guards rewrote), else, when a recovery answered the call, the tool's own.
 */
function callTool(c: Call): Promise<unknown> {
  // Only input guards hold events (`held.ts`): without them, nothing to release or fail.
  return guardsOf(c.parent)?.input ? heldCall(c) : settledCall(c);
}

async function heldCall(c: Call): Promise<unknown> {
  let output: unknown;
  try {
    output = await settledCall(c);
  } catch (error) {
    for (const held of c.held ?? []) if (!held.settled) await held.fail(error);
    throw error;
  }
  for (const held of c.held ?? []) if (!held.settled) await held.release(undefined, undefined);
  return output;
}

async function settledCall(c: Call): Promise<unknown> {
  const run = c.parent.run;
  // A fallback tool runs inside the recovery step that called it: it stands in for that tool.
  const r = c.parent.kind === "recovery" ? c.parent.recovery : undefined;
  const recovers = r?.action === "fallback" ? r.target : undefined;
  const first = openStep(c, c.parent, recovers);
  const outcome = await attempt(c, first);
  if (outcome.kind !== "failed") return outcome.output;
  // A fallback's own failure is settled by the recovery that called it (no model reads it); control
  // flow is never recovered, nor checked (an interrupt, a trip: no text for a model).
  if (outcome.cls === "control" || recovers !== undefined) return settle(outcome);
  const recovery = run.warden.options.recovery;
  if (!recovery) return settleChecked(c, outcome);
  return recover(c, outcome, recovery);
}

function openStep(c: Call, parent: Step, recovers?: string, injected = false): Step {
  const run = parent.run;
  return run.start("tool", c.name, parent, (s) => {
    s.tool = { name: c.name, type: "function" };
    if (c.callId !== undefined) s.tool.callId = c.callId;
    const description = c.tool.description;
    if (typeof description === "string" && description.length > 0) s.tool.description = description;
    if (recovers !== undefined) {
      s.tool.recovers = recovers;
      s.injected = true;
    }
    if (injected) s.injected = true;
    const cost = run.warden.options.toolCosts[c.name];
    if (cost !== undefined) s.tool.costUsd = cost;
    const captured = run.warden.capture("gen_ai.tool.call.arguments", c.args);
    if (captured !== undefined) s.tool.arguments = captured;
  });
}

/** Runs the call once as `step`: breakers first, then the tool through its circuit breaker. */
async function attempt(c: Call, step: Step): Promise<Attempt> {
  const run = step.run;
  let decision = run.guard?.beforeTool(step, c.name, c.args);
  if (decision?.kind === "ask") decision = await interruptible(step, () => askBreaker(step, decision as AskDecision));
  if (decision) {
    if (decision.kind === "abort") {
      run.end(step, "error", { type: decision.error.code, message: decision.error.message });
      throw decision.error;
    }
    // Not run: the agent gets a message instead (a loop hint, or why it has to stop).
    if (decision.kind === "finalize") step.addEvent("agentwarden.finalize");
    run.end(step, "cancelled");
    return { kind: "refused", output: reply(c, decision.kind === "hint" ? decision.message : stopText(decision.trip)) };
  }
  // Tool guards, only when the task has any, once per call (not again on its retries).
  const guards = guardsOf(step);
  if (guards && !c.guarded) {
    c.guarded = true;
    if (run.guardBlocked !== undefined) {
      run.end(step, "cancelled");
      return { kind: "refused", output: reply(c, run.guardBlocked) };
    }
    if (guards.tool) {
      const checked = await interruptible(step, () => guardToolCall(step, guards.tool ?? [], c.name, c.args));
      if ("refusal" in checked) {
        run.end(step, "cancelled");
        return { kind: "refused", output: reply(c, checked.refusal) };
      }
      if (checked.args !== c.args) {
        // A reviewer's edit: the call runs with the edited arguments (the caller's objects untouched).
        c.args = checked.args;
        c.arg = isToolCall(c.arg) ? { ...c.arg, args: checked.args } : checked.args;
        const captured = run.warden.capture("gen_ai.tool.call.arguments", c.args);
        if (captured !== undefined && step.tool) step.tool.arguments = captured;
      }
    }
  }
  const breakers = run.warden.toolBreakers;
  // The tool runs inside its step (LangChain's context carries it): `currentStep()` in the tool
  // body, and code there such as an instrumented MCP client, find the tool step. The call itself
  // is the caller's, untouched.
  // With input guards, the tool's callback events wait for their decision on its result.
  const held = guards?.input
    ? holdToolCallbacks(c.config, c.tool instanceof RunnableToolLike, ownCallbacks(c.tool))
    : undefined;
  if (held) c.held = [...(c.held ?? []), held];
  const config = held ? held.config : c.config;
  const call = () => c.original.call(c.tool, ...([c.arg, config, c.tags] as never[])) as Promise<unknown>;
  // `call` takes the config's runId for its run and deletes it (a retry's run gets its own): so on the caller's.
  const exec =
    held && c.config && config !== c.config
      ? () =>
          call().finally(() => {
            if (!("runId" in held.config)) delete (c.config as { runId?: unknown }).runId;
          })
      : call;
  let output: unknown;
  try {
    const work = enterStep(step, () => (breakers ? breakers.execute(c.name, exec) : exec()));
    // A time limit under `finalize` answers a call still waiting when the time runs out (below).
    output = await (run.guard ? run.guard.untilTimeUp(work) : work);
  } catch (error) {
    const outcome = classify(error, c.config?.signal);
    // An MCP result with isError, turned into a thrown exception by the adapter (ToolException):
    // one failure, one error.type, however the call was made.
    if (outcome.error && step.tool?.mcp?.toolError) outcome.error = { ...outcome.error, type: "tool_error" };
    run.guard?.afterTool(step, { error: outcome.error ?? outcome.status });
    run.end(step, outcome.status, outcome.error);
    const cls = outcome.status === "error" ? failureClass(error) : "control";
    return {
      kind: "failed",
      step,
      error: outcome.error ?? { type: "_OTHER", message: String(error) },
      cls,
      thrown: error,
    };
  }
  const timeUp = run.guard?.timeUpOf(output);
  if (timeUp) {
    step.addEvent("agentwarden.finalize");
    run.end(step, "cancelled");
    return { kind: "refused", output: reply(c, stopText(timeUp)) };
  }
  // Reading the result is telemetry: a result that throws when read (a getter, a revoked proxy) is
  // reported, and returned to the agent as it is.
  let failed: StepError | undefined;
  try {
    // Whether the result changed since the same call's last one tells polling from looping.
    run.guard?.afterTool(step, contentOf(output));
    const result = run.warden.capture("gen_ai.tool.call.result", contentOf(output));
    if (result !== undefined && step.tool) step.tool.result = result;
    failed = toolErrorOf(output);
  } catch (error) {
    run.warden.reportError(error, "langgraph:tool");
  }
  if (failed) {
    run.end(step, "error", failed);
    return { kind: "failed", step, error: failed, cls: failureClass(failed.message), output, ...(held && { held }) };
  }
  if (guards?.input) {
    // A tool's result is checked where it is made: before ToolNode puts it into the state.
    const raw = output;
    output = await checkResult(step, guards.input, output, c);
    await held?.release(raw, output);
  }
  run.end(step, "ok");
  return { kind: "ok", output };
}

type AskDecision = Extract<NonNullable<Decision>, { kind: "ask" }>;

/** Runs a guard or an `ask` that may `interrupt()`: the interrupt ends the tool step as interrupted. */
async function interruptible<T>(step: Step, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await enterStep(step, fn);
  } catch (error) {
    const outcome = classify(error);
    if (outcome.status === "interrupted") step.run.end(step, "interrupted");
    else step.run.end(step, outcome.status, outcome.error);
    throw error;
  }
}

/** A failure nobody recovered: thrown again, or its error result returned, as the tool did. */
function settle(failure: Failed): unknown {
  if ("thrown" in failure && failure.thrown !== undefined) throw failure.thrown;
  return failure.output;
}

/**
 * `settle`, with what the model will read of the failure checked by the task's input guards first
 * (only when it has any): the error's message (ToolNode makes the ToolMessage of it), or the error
 * result. Checked once, where no recovery follows: a retried attempt's error is never read. The
 * guard steps go under the failed tool step.
 */
function settleChecked(c: Call, failure: Failed): unknown {
  const rules = guardsOf(c.parent)?.input;
  if (!rules) return settle(failure);
  return settleGuarded(c, failure, rules);
}

async function settleGuarded(c: Call, failure: Failed, rules: readonly GuardRule[]): Promise<unknown> {
  const step = failure.step;
  if (failure.thrown === undefined) {
    const output = await interruptible(step, () => checkResult(step, rules, failure.output, c));
    await failure.held?.release(failure.output, output);
    return output;
  }
  const error = failure.thrown;
  const text = errorMessage(error);
  const probe = new ToolMessage({ content: text, tool_call_id: c.callId ?? "", name: c.name, status: "error" });
  const checked = await interruptible(step, () => guardToolResult(step, rules, probe, c.callId, c.name));
  if (checked === probe) throw error;
  // Redacted, or the refusal: the same error in what ToolNode makes of it, with the text the model may read.
  throw withMessage(error, textOf((checked as { content?: unknown }).content));
}

/**
 * The input guards on a tool's result (`guardToolResult`). A LangGraph `Command` (a tool updating
 * the state, a handoff) keeps its update, its goto and its class: the ToolMessages in its
 * `update.messages` are checked, each as a tool result, and a copy of the Command carries the
 * redacted or refused ones. Its other state keys are not guarded (no model reads them as a tool result).
 */
function checkResult(step: Step, rules: readonly GuardRule[], output: unknown, c: Call): Promise<unknown> {
  if (isCommand(output)) return guardCommand(step, rules, output, c);
  return guardToolResult(step, rules, output, c.callId, c.name);
}

interface CommandLike {
  lg_name: "Command";
  update?: unknown;
}

function isCommand(x: unknown): x is CommandLike {
  return (
    typeof x === "object" &&
    x !== null &&
    Object.getPrototypeOf(x) !== Object.prototype &&
    (x as { lg_name?: unknown }).lg_name === "Command"
  );
}

async function guardCommand(step: Step, rules: readonly GuardRule[], command: CommandLike, c: Call): Promise<unknown> {
  const update = command.update;
  let next = update;
  if (Array.isArray(update)) {
    // `[channel, value]` pairs
    const pairs = [...update];
    for (let i = 0; i < pairs.length; i++) {
      const pair = pairs[i] as unknown;
      if (!Array.isArray(pair) || pair.length !== 2 || pair[0] !== "messages") continue;
      const messages = await guardMessages(step, rules, pair[1], c);
      if (messages !== pair[1]) {
        pairs[i] = ["messages", messages];
        next = pairs;
      }
    }
  } else if (typeof update === "object" && update !== null && "messages" in update) {
    const before = (update as { messages: unknown }).messages;
    const messages = await guardMessages(step, rules, before, c);
    if (messages !== before) next = { ...update, messages };
  }
  if (next === update) return command;
  const copy = Object.create(Object.getPrototypeOf(command), Object.getOwnPropertyDescriptors(command)) as CommandLike;
  copy.update = next;
  return copy;
}

/** The tool messages of a Command's `messages` update (one message or a list), checked; the rest as they are. */
async function guardMessages(step: Step, rules: readonly GuardRule[], value: unknown, c: Call): Promise<unknown> {
  const list = Array.isArray(value) ? value : [value];
  let out: unknown[] | undefined;
  for (let i = 0; i < list.length; i++) {
    const m = list[i] as { content?: unknown; tool_call_id?: unknown } | null;
    if (!isToolMessage(m)) continue;
    const callId = typeof m.tool_call_id === "string" ? m.tool_call_id : c.callId;
    let checked: unknown;
    if (Object.getPrototypeOf(m) === Object.prototype) {
      // A message as a plain object (`{ role: "tool", ... }`): checked as a ToolMessage, copied with its new text.
      const probe = new ToolMessage({ content: textOf(m.content), tool_call_id: callId ?? "", name: c.name });
      const result = await guardToolResult(step, rules, probe, callId, c.name);
      checked = result === probe ? m : { ...m, content: textOf((result as { content?: unknown }).content) };
    } else checked = await guardToolResult(step, rules, m, callId, c.name);
    if (checked !== m) {
      out ??= [...list];
      out[i] = checked;
    }
  }
  if (!out) return value;
  return Array.isArray(value) ? out : out[0];
}

function isToolMessage(m: unknown): m is { content?: unknown; tool_call_id?: unknown } {
  if (typeof m !== "object" || m === null) return false;
  const x = m as { getType?: () => unknown; type?: unknown; role?: unknown };
  try {
    if (typeof x.getType === "function") return x.getType() === "tool";
  } catch {
    return false;
  }
  return x.type === "tool" || x.role === "tool";
}

/** The text a tool's thrown error shows the model (ToolNode's message is made of it). */
function errorMessage(error: unknown): string {
  if (typeof error === "string") return error;
  const message = (error as { message?: unknown } | null)?.message;
  if (typeof message === "string") return message;
  try {
    return String(error);
  } catch {
    return "";
  }
}

/**
 * A copy of a thrown error with another message: same prototype (its class, so `instanceof` and
 * ToolNode's handling are unchanged), same own fields, the message also replaced in the stack's
 * first line; the tool's error object is not touched. A thrown string becomes the new text.
 */
function withMessage(error: unknown, message: string): unknown {
  if (typeof error !== "object" || error === null) return message;
  const before = errorMessage(error);
  try {
    const copy = Object.create(Object.getPrototypeOf(error), Object.getOwnPropertyDescriptors(error)) as {
      stack?: unknown;
    };
    Object.defineProperty(copy, "message", { value: message, writable: true, configurable: true, enumerable: false });
    const stack = copy.stack;
    if (typeof stack === "string") {
      const at = before === "" ? -1 : stack.indexOf(before);
      const cut = stack.indexOf("\n    at ");
      // Nothing of the old message may stay: where it is not found in the stack's header, the frames alone.
      const next =
        at >= 0
          ? stack.slice(0, at) + message + stack.slice(at + before.length)
          : `${String(copy)}${cut >= 0 ? stack.slice(cut) : ""}`;
      Object.defineProperty(copy, "stack", { value: next, writable: true, configurable: true, enumerable: false });
    }
    return copy;
  } catch {
    // An error that cannot be copied (a frozen proxy, a non-configurable message): a plain Error.
    return new Error(message);
  }
}

type Failed = Extract<Attempt, { kind: "failed" }>;

async function recover(c: Call, failure: Failed, recovery: RecoveryConfig): Promise<unknown> {
  const run = c.parent.run;
  let last = failure;
  let attempts = 1;
  const open = (action: RecoveryAction) => {
    last.step.recoveredBy = action;
    return run.start("recovery", c.name, c.parent, (s) => {
      s.recovery = { trigger: "tool_error", cause: last.cls, action, target: c.name };
    });
  };

  for (const decision of planRecovery({ tool: c.name, failureClass: last.cls }, recovery, c.callId !== undefined)) {
    switch (decision.action) {
      case "retry": {
        const step = open("retry");
        let outcome: Attempt;
        try {
          outcome = await retryTransient(
            decision.retry,
            () => {
              attempts++;
              return enterStep(step, () => attempt(c, openStep(c, step, undefined, true)));
            },
            (o) => o.kind === "failed" && o.cls === "transient",
            c.config?.signal,
          );
        } catch (error) {
          finish(step, attempts, "error", error);
          throw run.guard?.tripError ?? error;
        }
        if (outcome.kind !== "failed") {
          finish(step, attempts, "ok");
          return outcome.output;
        }
        last = outcome;
        finish(step, attempts, "error");
        if (last.cls === "control") return settle(last);
        break;
      }
      case "fallback": {
        const fallback = decision.tool as ToolLike;
        const step = open("fallback");
        const name = typeof fallback.name === "string" ? fallback.name : "fallback";
        const input = c.callId !== undefined ? { type: "tool_call", id: c.callId, name, args: c.args } : c.args;
        try {
          let output = await enterStep(step, () => fallback.invoke(input, c.config));
          if (!toolErrorOf(output)) {
            // A fallback that went through this funnel had its result checked there; any other now.
            const rules = guardsOf(c.parent)?.input;
            if (rules && !step.children.some((s) => s.kind === "tool"))
              output = await interruptible(step, () => checkResult(step, rules, output, c));
            finish(step, attempts, "ok");
            return output;
          }
          finish(step, attempts, "error");
        } catch (error) {
          finish(step, attempts, "error", error);
          if (run.guard?.tripError) throw run.guard.tripError;
        }
        break;
      }
      case "handler": {
        const context = { tool: c.name, args: c.args, error: last.error, failureClass: last.cls, attempts };
        const text = await handlerText(decision.handler, context, (e) => run.warden.reportError(e, "onToolError"));
        if (text !== undefined) {
          const step = open("handler");
          const output = await checkedReply(step, text);
          finish(step, attempts, "ok", undefined, replyText(output));
          return output;
        }
        break;
      }
      case "corrective_message": {
        const text = correctiveMessage(c, last, attempts);
        const step = open("corrective_message");
        const output = await checkedReply(step, text);
        finish(step, attempts, "ok", undefined, replyText(output));
        return output;
      }
    }
  }
  return settleChecked(c, last);

  /** The reply with a handler's or a corrective text (which may quote the error), checked by the input guards. */
  async function checkedReply(step: Step, text: string): Promise<unknown> {
    const output = reply(c, text);
    const rules = guardsOf(c.parent)?.input;
    return rules ? interruptible(step, () => checkResult(step, rules, output, c)) : output;
  }

  function finish(step: Step, n: number, status: "ok" | "error", error?: unknown, message?: string): void {
    if (step.recovery) {
      step.recovery.attempts = n;
      const captured = message !== undefined ? run.warden.capture("gen_ai.output.messages", message) : undefined;
      if (captured !== undefined) step.recovery.message = captured;
    }
    run.end(
      step,
      status,
      status === "error"
        ? { type: "recovery_failed", message: error instanceof Error ? error.message : last.error.message }
        : undefined,
    );
  }
}

/** The core's corrective text for a failed call, with the tool's argument schema as JSON Schema. */
export function correctiveMessage(c: Call, failure: Failed, attempts: number): string {
  const warden = c.parent.run.warden;
  return correctiveText(
    { tool: c.name, error: failure.error, failureClass: failure.cls, attempts },
    schemaText(c.tool.schema),
    (text) => warden.redactText("error.message", text),
  );
}

function schemaText(schema: unknown): string | undefined {
  if (schema === undefined) return undefined;
  try {
    const json = JSON.stringify(toJsonSchema(schema as never));
    return json.length > 1500 ? `${json.slice(0, 1500)}…` : json;
  } catch {
    return undefined;
  }
}

function replyText(output: unknown): string {
  return typeof output === "string" ? output : textOf((output as { content?: unknown } | null)?.content);
}

/** The message a call answered by agentwarden returns: a ToolMessage when there is a call id, else text. */
function reply(c: Call, text: string): unknown {
  return c.callId !== undefined
    ? new ToolMessage({ content: text, tool_call_id: c.callId, name: c.name, status: "error" })
    : text;
}

function isToolCall(arg: unknown): arg is { id?: string; args: unknown; name: string } {
  return typeof arg === "object" && arg !== null && (arg as { type?: unknown }).type === "tool_call" && "args" in arg;
}

/** A tool that returns a ToolMessage with `status: "error"` has failed, though it did not throw. */
function toolErrorOf(output: unknown): StepError | undefined {
  if (typeof output !== "object" || output === null) return undefined;
  const o = output as { status?: unknown; content?: unknown };
  if (o.status !== "error") return undefined;
  return { type: "tool_error", message: typeof o.content === "string" ? o.content : "tool returned an error" };
}

function contentOf(output: unknown): unknown {
  if (typeof output === "object" && output !== null && "content" in output)
    return (output as { content: unknown }).content;
  return output;
}

/** The callbacks a tool was made with: a StructuredTool's own, or those bound to an `asTool()` runnable. */
function ownCallbacks(tool: unknown): unknown {
  const t = tool as { callbacks?: unknown; config?: { callbacks?: unknown } } | null;
  return t?.callbacks ?? t?.config?.callbacks;
}
