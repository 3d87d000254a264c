import { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AIMessage, AIMessageChunk } from "@langchain/core/messages";
import { StructuredTool } from "@langchain/core/tools";
import type { ModelCallEstimate, Step, TaskGuard, Trip } from "../../src/index.js";
import { noteToolNodeTool } from "./answers.js";
import { estimateInputTokens, estimateUsage, type Measured, requestFacts, responseFacts, sumUsage } from "./chat.js";
import { classify } from "./control.js";
import { type Proto, parentOf, patch, stopText } from "./funnel.js";
import { askBreaker, guardModelInput, guardModelOutput, guardsOf, recordInputs, refusalResult } from "./guards.js";
import { holdCallbacks } from "./held.js";
import { iterateIn } from "./iterate.js";
import {
  chatMessage,
  MESSAGE_STAMP,
  outputMessages,
  requestMessages,
  systemParts,
  toolDefinitions,
} from "./messages.js";
import { enterStep, registerLangChainScope } from "./scope.js";
import { instrumentToolClass } from "./tools.js";

/*
 * Model and tool calls are observed at LangChain's two funnels, not through callbacks: every chat
 * model call goes through `BaseChatModel.prototype.generate` (invoke, batch, generatePrompt) or
 * `_streamIterator` (stream), and every tool call through `StructuredTool.prototype.call`. The
 * patched methods find the current step in the RunnableConfig they are called with (or through
 * `currentStep()`); outside a task they cost one lookup and call straight through. Measured, a
 * no-op callback handler costs far more per step (README, "Design"): it makes every internal
 * runnable of the graph fire start and end events.
 */

/** Installs the model and tool funnels on the `@langchain/core` copy this package resolves. Idempotent. */
export function instrumentLangChain(): void {
  registerLangChainScope();
  instrumentChatModelClass(BaseChatModel.prototype as unknown as Proto);
  instrumentToolClass(StructuredTool.prototype as unknown as Proto);
}

/**
 * Installs the tool funnel on another copy of `@langchain/core` (found from a tool instance's
 * prototype chain), so tools built against a second copy are traced too. Called for each tool of a
 * wrapped graph's ToolNodes: notes its name too.
 */
export function instrumentToolInstance(tool: unknown): void {
  // A call naming a tool a ToolNode runs is not an answer (a structured one: answers.ts).
  noteToolNodeTool(tool);
  for (let p = Object.getPrototypeOf(tool) as Proto | null; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    if (Object.hasOwn(p, "call") && (p.constructor as { name?: string } | undefined)?.name === "StructuredTool") {
      instrumentToolClass(p);
      return;
    }
  }
}

function instrumentChatModelClass(proto: Proto): void {
  patch(
    proto,
    "generate",
    (original) =>
      function wardenGenerate(this: unknown, ...args: never[]) {
        const [messages, options] = args as unknown as [unknown, unknown];
        const parent = parentOf();
        if (!parent || parent.kind === "chat") return original.apply(this, args);
        const step = openChat(parent, this, options, messages);
        const guard = step.run.guard;
        // The call runs inside the chat step: nested model calls are not counted twice.
        return enterStep(step, async () => {
          try {
            if (guard) {
              // Awaited only when a shared budget or rate limit had to ask its store: a promise
              // and a microtask per call saved on the usual, synchronous decision.
              let decision = guard.beforeModel(
                step,
                guard.wantsEstimate ? callEstimate(step, this, options, messages, guard) : undefined,
              );
              if (decision instanceof Promise) decision = await decision;
              // `ask`: the task pauses; resumed with approval the limit is raised and the call is checked again.
              if (decision?.kind === "ask") {
                decision = askBreaker(step, decision);
                if (decision === undefined)
                  decision = await guard.beforeModel(
                    step,
                    guard.wantsEstimate ? callEstimate(step, this, options, messages, guard) : undefined,
                  );
              }
              if (decision?.kind === "abort") throw decision.error;
              if (decision?.kind === "finalize") return finalAnswer(step, decision.trip);
            }
            // Guards, only when the task has any: the input the model reads, then its output.
            const guards = guardsOf(step);
            let callArgs = args;
            if (guards) {
              const blocked = step.run.guardBlocked;
              if (blocked !== undefined) return endRefused(step, blocked);
              if (guards.input) {
                const checked = await guardModelInput(step, guards.input, messages);
                if ("refusal" in checked) return endRefused(step, checked.refusal);
                if (checked.prompts !== messages) {
                  callArgs = [checked.prompts, ...args.slice(1)] as never[];
                  // What is recorded is what the model read.
                  if (step.run.warden.options.captureContent && step.chat)
                    captureRequest(step, step.chat, checked.prompts, options);
                }
              }
            }
            let result: unknown;
            if (guards?.output) {
              // The callback handlers (LangGraph's messages stream, streamEvents, the caller's own)
              // see the answer once the output guards have decided, and only what they allow.
              const held = holdCallbacks(callArgs[1], callArgs[2], (this as { callbacks?: unknown }).callbacks);
              try {
                const raw = await original.apply(this, held ? ([callArgs[0], held.options] as never[]) : callArgs);
                result = await guardModelOutput(step, guards.output, callArgs[0], raw);
                await held?.release(raw, result);
              } catch (error) {
                await held?.fail(error);
                throw error;
              }
            } else result = await original.apply(this, callArgs);
            // The decisions on the user messages this call read go into the state with its answer.
            if (guards?.input) result = recordInputs(step, result);
            endChat(step, (chat) => {
              const reasons = responseFacts(chat, result);
              if (!chat.usage) chat.estimatedUsage = estimateUsage(messages, result);
              if (step.run.warden.options.captureContent) {
                const generations = (result as { generations?: { message?: unknown }[][] })?.generations;
                if (Array.isArray(generations)) {
                  const output = step.run.warden.capture(
                    "gen_ai.output.messages",
                    outputMessages(
                      generations.map((g) => g?.[0]?.message),
                      reasons,
                    ),
                  );
                  if (output !== undefined) chat.output = output;
                }
              }
            });
            if (guard && step.chat) {
              const c = step.chat;
              const after = guard.afterModel(step, c.responseModel ?? c.requestModel, c.usage ?? c.estimatedUsage);
              if (after instanceof Promise) await after;
            }
            return result;
          } catch (error) {
            const outcome = classify(error, signalOf(options));
            step.run.end(step, outcome.status, outcome.error);
            throw error;
          }
        });
      },
  );

  patch(
    proto,
    "_streamIterator",
    (original) =>
      function wardenStreamIterator(this: unknown, ...args: never[]) {
        const [input, options] = args as unknown as [unknown, unknown];
        const parent = parentOf();
        if (!parent || parent.kind === "chat") return original.apply(this, args);
        const step = openChat(parent, this, options, input, true);
        const requested = performance.now();
        // A model without native streaming falls back from stream() to generate(): running inside
        // the chat step keeps that call from being counted twice.
        const enter = <R>(fn: () => R): R => enterStep(step, fn);
        const guard = step.run.guard;
        const source = (
          guard
            ? guardedStream(
                step,
                guard,
                guard.wantsEstimate ? callEstimate(step, this, options, input, guard) : undefined,
                () => enter(() => original.apply(this, args) as AsyncIterator<unknown>),
              )
            : enter(() => original.apply(this, args))
        ) as AsyncIterator<unknown>;
        const chunks: unknown[] = [];
        return iterateIn(
          enter,
          source,
          (how, error) => {
            if (how === "error") {
              const outcome = classify(error, signalOf(options));
              step.run.end(step, outcome.status, outcome.error);
              return;
            }
            endChat(
              step,
              (chat) => {
                // Providers put usage on one chunk (usually the last) or spread it: sum what is there.
                const usage = sumUsage(chat, chunks);
                const last = chunks.at(-1) as { response_metadata?: Record<string, unknown>; id?: unknown } | undefined;
                const first = chunks[0] as { id?: unknown } | undefined;
                const reasons = responseFacts(chat, {
                  generations: [[{ message: { response_metadata: last?.response_metadata, id: first?.id } }]],
                });
                if (usage) chat.usage = usage;
                else chat.estimatedUsage = estimateUsage(input, chunks);
                if (step.run.warden.options.captureContent && chunks.length > 0) {
                  const output = step.run.warden.capture(
                    "gen_ai.output.messages",
                    outputMessages([concatChunks(chunks)], reasons),
                  );
                  if (output !== undefined) chat.output = output;
                }
              },
              how === "closed" ? "cancelled" : "ok",
            );
            const c = step.chat;
            if (guard && c) {
              Promise.resolve(
                guard.afterModel(step, c.responseModel ?? c.requestModel, c.usage ?? c.estimatedUsage),
              ).catch((e: unknown) => {
                step.run.warden.reportError(e, "breakers");
              });
            }
          },
          (chunk) => {
            if (chunks.length === 0 && step.chat) step.chat.timeToFirstChunk = (performance.now() - requested) / 1000;
            chunks.push(chunk);
          },
        );
      },
  );
}

/** A model call a guard refused: not made, answered with the refusal (a final answer). */
function endRefused(step: Step, refusal: string) {
  const result = refusalResult(step, refusal);
  step.run.end(step, "ok");
  return result;
}

function openChat(parent: Step, model: unknown, options: unknown, messages: unknown, stream = false): Step {
  const { provider, requestModel, params } = requestFacts(model as never, options);
  const run = parent.run;
  return run.start("chat", requestModel, parent, (step) => {
    step.chat = { provider, requestModel };
    if (stream) step.chat.stream = true;
    if (params) step.chat.request = params;
    // Content in the conventions' shapes, converted only when it is captured.
    if (run.warden.options.captureContent) captureRequest(step, step.chat, messages, options);
  });
}

/** The request's messages, system instructions and tool definitions; reading them never throws into the agent. */
function captureRequest(step: Step, chat: NonNullable<Step["chat"]>, messages: unknown, options: unknown): void {
  const warden = step.run.warden;
  try {
    // An agent sends its whole conversation, and the same tools, at every turn: each message (and
    // the tool list) is converted and redacted once per task, not once per call (README "Performance").
    const { system, input } = requestMessages(messages);
    const captured = warden.captureListOf("gen_ai.input.messages", input, chatMessage, MESSAGE_STAMP);
    if (captured !== undefined) chat.input = captured;
    const parts = systemParts(system);
    if (parts) {
      const s = warden.capture("gen_ai.system_instructions", parts);
      if (s !== undefined) chat.systemInstructions = s;
    }
    const bound = (options as { tools?: unknown } | undefined)?.tools;
    const tools = Array.isArray(bound) ? bound : undefined;
    if (tools && tools.length > 0) {
      // The list and its length: a list changed in place is captured again. None when no tool has a name.
      const t = warden.captureOf("gen_ai.tool.definitions", tools, toolDefinitions, TOOLS_STAMP);
      if (t !== undefined) chat.toolDefinitions = t;
    }
  } catch (error) {
    warden.reportError(error, "langgraph:chat");
  }
}

/** A bound tool list's stamp: its items, by identity (a list changed in place is captured again). */
const TOOLS_STAMP = {
  of: (tools: unknown) => [...(tools as unknown[])],
  matches: (tools: unknown, stamp: unknown) => {
    const now = tools as unknown[];
    const then = stamp as unknown[];
    return now.length === then.length && now.every((t, i) => t === then[i]);
  },
};

/** A stream's chunks as one message (AIMessageChunk.concat), or the last chunk when they do not concat. */
function concatChunks(chunks: readonly unknown[]): unknown {
  try {
    let acc = chunks[0] as { concat?(other: unknown): unknown };
    for (let i = 1; i < chunks.length; i++) acc = acc.concat?.(chunks[i]) as typeof acc;
    return acc;
  } catch {
    return chunks.at(-1);
  }
}

/** Ends a chat step, filling its response facts; a failure to read them is reported, not thrown. */
function endChat(step: Step, fill: (chat: NonNullable<Step["chat"]>) => void, status: "ok" | "cancelled" = "ok"): void {
  try {
    if (step.chat) fill(step.chat);
  } catch (error) {
    step.run.warden.reportError(error, "langgraph:chat");
  }
  step.run.end(step, status);
}

function signalOf(options: unknown): AbortSignal | undefined {
  const s = (options as { signal?: unknown } | undefined)?.signal;
  return s instanceof AbortSignal ? s : undefined;
}

/** The worst case of a model call for the cost guard: its input (estimated) and its output limit. */
function callEstimate(
  step: Step,
  model: unknown,
  options: unknown,
  messages: unknown,
  guard: TaskGuard,
): ModelCallEstimate {
  const m = model as Record<string, unknown>;
  const o = (options ?? {}) as Record<string, unknown>;
  const limit = [
    o.maxTokens,
    o.max_tokens,
    o.maxOutputTokens,
    o.max_completion_tokens,
    m.maxTokens,
    m.maxOutputTokens,
  ].find((v): v is number => typeof v === "number" && v > 0);
  return {
    // The model openChat found (requestFacts asks the model for its LangSmith parameters: once per call).
    model: step.chat?.requestModel ?? requestFacts(model as never, options).requestModel,
    inputTokens: estimateInputTokens(messages, memoOf(guard)),
    maxOutputTokens: limit ?? guard.run.warden.options.defaultMaxOutputTokens,
  };
}

/** Each task's last measured conversation (see estimateInputTokens), by its guard. */
const conversations = new WeakMap<TaskGuard, { last?: Measured }>();

function memoOf(guard: TaskGuard): { last?: Measured } {
  let memo = conversations.get(guard);
  if (memo === undefined) {
    memo = {};
    conversations.set(guard, memo);
  }
  return memo;
}

/**
 * In `finalize` mode a model call is not made: the model "answers" with the stop message, so the
 * agent routes to its end with a final answer that says why.
 */
function finalAnswer(step: Step, trip: Trip) {
  step.addEvent("agentwarden.finalize");
  const content = stopText(trip);
  if (step.chat) step.chat.usage = { input: 0, output: 0 }; // no model was called
  step.run.end(step, "ok");
  return { generations: [[{ text: content, message: new AIMessage({ content }) }]], llmOutput: {} };
}

async function* guardedStream(
  step: Step,
  guard: TaskGuard,
  estimate: ModelCallEstimate | undefined,
  start: () => AsyncIterator<unknown>,
): AsyncGenerator<unknown> {
  let decision = await guard.beforeModel(step, estimate);
  if (decision?.kind === "ask") {
    decision = askBreaker(step, decision);
    if (decision === undefined) decision = await guard.beforeModel(step, estimate);
  }
  if (decision?.kind === "abort") throw decision.error;
  if (decision?.kind === "finalize") {
    step.addEvent("agentwarden.finalize");
    if (step.chat) step.chat.usage = { input: 0, output: 0 }; // no model was called (as finalAnswer)
    yield new AIMessageChunk({ content: stopText(decision.trip) });
    return;
  }
  const source = start();
  for (;;) {
    const r = await source.next();
    if (r.done) return;
    yield r.value;
  }
}
