import {
  type Attributes,
  type Context,
  context,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
  trace,
} from "@opentelemetry/api";
import type { ResolvedOptions } from "../options.js";
import type { ChatRequestParams, Step } from "../run/step.js";
import type { TokenUsage } from "../run/usage.js";
import type { Subscriber } from "../subscriber.js";
import { evaluatedStep, evaluationAttributes, GEN_AI_EVALUATION_RESULT, type LoggerLike } from "./evaluationEvents.js";
import * as sc from "./semconv.js";
import { vocabularyAttributes } from "./vocabularies.js";

/** The tracer's instrumentation scope. */
export const TRACER_NAME = "agentwarden";
export const TRACER_VERSION = "0.1.0";

interface SpanSlot {
  span: Span;
  /** The parent context with this span set: children start under it, the step's work runs in it. */
  ctx: Context;
  /** The step whose span this is; a step under a sampled-out trace shares its ancestor's slot. */
  owner: Step;
  /**
   * Set when this span and its parent were both sampled out (not recording): its descendants
   * start no spans and run in its context (`sampledOutSpans: "skip"`).
   */
  skip: boolean;
}

let nextSlot = 0;

/**
 * The first subscriber: one OpenTelemetry span per step, parented along the ledger's tree (not the
 * ambient context, which callbacks and background queues lose), and made the active context while
 * the step's work runs, so spans started inside a node, model or tool body are its children.
 */
export class TracingSubscriber implements Subscriber {
  readonly name = "tracing";
  private readonly tracer: Tracer;
  private readonly slot = nextSlot++;

  constructor(
    private readonly options: ResolvedOptions,
    /** Where a failure of the application's context manager is reported. */
    private readonly onError?: (error: unknown, source: string) => void,
  ) {
    const provider = options.tracerProvider ?? trace.getTracerProvider();
    this.tracer = provider.getTracer(TRACER_NAME, TRACER_VERSION);
    this.logger = options.loggerProvider?.getLogger(TRACER_NAME, TRACER_VERSION);
    this.skipSampledOut = options.sampledOutSpans === "skip";
  }

  private readonly logger: LoggerLike | undefined;
  /** `sampledOutSpans: "skip"`. */
  private readonly skipSampledOut: boolean;

  onStepStart(step: Step): void {
    const parent = step.parent ? (step.parent.slots[this.slot] as SpanSlot | undefined) : undefined;
    if (parent?.skip) {
      // Under a sampled-out trace: no span, the step runs in its nearest started ancestor's context.
      step.slots[this.slot] = parent;
      return;
    }
    const parentCtx = parent ? parent.ctx : context.active();
    const client = step.kind === "chat" || step.kind === "mcp" || step.tool?.mcp?.ownSpan === true;
    const span = this.tracer.startSpan(
      spanName(step, this.options),
      { kind: client ? SpanKind.CLIENT : SpanKind.INTERNAL, attributes: this.startAttributes(step) },
      parentCtx,
    );
    const slot: SpanSlot = { span, ctx: trace.setSpan(parentCtx, span), owner: step, skip: false };
    if (this.skipSampledOut && !span.isRecording()) {
      // Two unsampled levels in a row (this span and the one it starts under): the sampler drops
      // this trace's spans, so their descendants would be dropped too.
      const above = parent ? parent.span : trace.getSpan(parentCtx);
      if (above !== undefined && !above.isRecording()) {
        slot.skip = true;
        if (parent) parent.skip = true;
      }
    }
    step.slots[this.slot] = slot;
  }

  /**
   * Called by the hub directly (a trusted subscriber, without the guard user subscribers get), so
   * it keeps that guard's promise itself: the work runs exactly once, and a context manager that
   * throws (an application's or an APM's) is reported and the work runs without the span active.
   */
  activate<T>(step: Step, fn: () => T): T {
    const slot = step.slots[this.slot] as SpanSlot | undefined;
    if (!slot) return fn();
    let ran = false;
    try {
      return context.with(slot.ctx, () => {
        ran = true;
        return fn();
      });
    } catch (error) {
      if (ran) throw error;
      this.onError?.(error, "subscriber:tracing");
      return fn();
    }
  }

  onStepEnd(step: Step): void {
    const slot = step.slots[this.slot] as SpanSlot | undefined;
    if (!slot) return;
    step.slots[this.slot] = undefined;
    const span = slot.span;
    if (slot.owner !== step || !span.isRecording()) {
      // Sampled out: nothing to record on this span, but an evaluation result still goes where it
      // belongs: a log record (logs are sampled on their own), or an event on the evaluated span
      // when that one is recording (a sampler may keep a model call and drop the guard checking it).
      if (step.kind === "eval") this.evaluationResult(step, slot);
      if (slot.owner === step) span.end();
      return;
    }
    const attributes = this.endAttributes(step);
    if (attributes) span.setAttributes(attributes);
    if (step.events) {
      for (const event of step.events) span.addEvent(event.name, event.attributes, event.time);
    }
    if (step.kind === "eval") this.evaluationResult(step, slot);
    if (step.status === "error") {
      span.setAttribute(sc.ERROR_TYPE, step.error?.type || sc.ERROR_TYPE_OTHER);
      span.setStatus({ code: SpanStatusCode.ERROR, ...(step.error ? { message: step.error.message } : {}) });
    } else if (step.status !== "ok") {
      span.setAttribute(sc.AW_STEP_STATUS, step.status);
    }
    span.end();
  }

  /**
   * An evaluation result as the GenAI conventions define it: a `gen_ai.evaluation.result` event
   * parented to the evaluated span (the model or tool call a guard checked, the node a correction
   * re-ran, the task's root for final checks). A log record through the Logs API when a
   * `loggerProvider` is given (span events are being deprecated upstream); else a span event on
   * the evaluated span, or on the eval span when the evaluated one has already ended.
   */
  private evaluationResult(step: Step, own: SpanSlot): void {
    const attributes = evaluationAttributes(step);
    if (!attributes) return;
    const target = evaluatedStep(step);
    const evaluated = target ? (target.slots[this.slot] as SpanSlot | undefined) : undefined;
    if (this.logger) {
      this.logger.emit({
        eventName: GEN_AI_EVALUATION_RESULT,
        attributes,
        context: (evaluated ?? own).ctx,
        timestamp: step.endTime ?? Date.now(),
      });
      return;
    }
    const span = evaluated?.span.isRecording() ? evaluated.span : own.span;
    span.addEvent(GEN_AI_EVALUATION_RESULT, attributes, step.endTime);
  }

  async forceFlush(): Promise<void> {
    await flushable(this.options.tracerProvider ?? trace.getTracerProvider())?.forceFlush();
  }

  async shutdown(): Promise<void> {
    // The provider belongs to the application: flush it, do not shut it down.
    await this.forceFlush();
  }

  /** Sampling-relevant attributes, known when the step starts. */
  private startAttributes(step: Step): Attributes {
    const a: Attributes = {};
    switch (step.kind) {
      case "workflow":
      case "agent": {
        const g = step.graph;
        const named = g?.anonymous !== true;
        if (step.kind === "agent") {
          a[sc.GEN_AI_OPERATION_NAME] = sc.OPERATION_INVOKE_AGENT;
          if (named) a[sc.GEN_AI_AGENT_NAME] = step.name;
        } else {
          a[sc.GEN_AI_OPERATION_NAME] = sc.OPERATION_INVOKE_WORKFLOW;
          if (named) a[sc.GEN_AI_WORKFLOW_NAME] = step.name;
        }
        // invoke_workflow has no gen_ai.conversation.id in the conventions: the thread id rides
        // on the workflow span as an extension, on its model and tool spans as the convention's.
        if (g?.conversationId !== undefined)
          a[step.kind === "agent" ? sc.GEN_AI_CONVERSATION_ID : sc.LANGGRAPH_THREAD_ID] = g.conversationId;
        break;
      }
      case "node": {
        const n = step.node;
        if (this.options.semconv.nodeSpans === "run_step") {
          a[sc.GEN_AI_OPERATION_NAME] = sc.OPERATION_RUN_STEP;
          a[sc.GEN_AI_STEP_NAME] = step.name;
        }
        a[sc.LANGGRAPH_NODE] = step.name;
        if (n?.superstep !== undefined) a[sc.LANGGRAPH_STEP] = n.superstep;
        if (n) a[sc.LANGGRAPH_ATTEMPT] = n.attempt;
        break;
      }
      case "chat": {
        const c = step.chat;
        a[sc.GEN_AI_OPERATION_NAME] = sc.OPERATION_CHAT;
        if (c) {
          a[sc.GEN_AI_PROVIDER_NAME] = c.provider;
          if (c.requestModel !== sc.UNKNOWN_MODEL) a[sc.GEN_AI_REQUEST_MODEL] = c.requestModel;
          if (c.stream) a[sc.GEN_AI_REQUEST_STREAM] = true;
          if (c.request) requestAttributes(c.request, a);
          if (c.input !== undefined) a[sc.GEN_AI_INPUT_MESSAGES] = c.input;
          if (c.systemInstructions !== undefined) a[sc.GEN_AI_SYSTEM_INSTRUCTIONS] = c.systemInstructions;
          if (c.toolDefinitions !== undefined) a[sc.GEN_AI_TOOL_DEFINITIONS] = c.toolDefinitions;
        }
        const conversation = conversationOf(step);
        if (conversation !== undefined) a[sc.GEN_AI_CONVERSATION_ID] = conversation;
        break;
      }
      case "tool": {
        const t = step.tool;
        a[sc.GEN_AI_OPERATION_NAME] = sc.OPERATION_EXECUTE_TOOL;
        a[sc.GEN_AI_TOOL_NAME] = t?.name ?? step.name;
        if (t) {
          a[sc.GEN_AI_TOOL_TYPE] = t.type;
          if (t.callId !== undefined) a[sc.GEN_AI_TOOL_CALL_ID] = t.callId;
          if (t.description !== undefined) a[sc.GEN_AI_TOOL_DESCRIPTION] = t.description;
          if (t.arguments !== undefined) a[sc.GEN_AI_TOOL_CALL_ARGUMENTS] = t.arguments;
        }
        const agent = agentNameOf(step);
        if (agent !== undefined) a[sc.GEN_AI_AGENT_NAME] = agent;
        const conversation = conversationOf(step);
        if (conversation !== undefined) a[sc.GEN_AI_CONVERSATION_ID] = conversation;
        break;
      }
      case "mcp": {
        const m = step.mcp;
        if (m?.promptName !== undefined) a[sc.GEN_AI_PROMPT_NAME] = m.promptName;
        break;
      }
    }
    // The task's version on each of its spans (the root's graph info is set before its span starts).
    const version = (step.parent ? step.run.root : step).graph?.version;
    if (version !== undefined) {
      a[sc.AW_VERSION] = version;
      if (step.kind === "agent" && !step.parent) a[sc.GEN_AI_AGENT_VERSION] = version;
    }
    if (this.options.vocabularies.size > 0) Object.assign(a, vocabularyAttributes(step, this.options.vocabularies));
    return a;
  }

  /** Facts known only when the step ends: usage, response model, finish reasons, results. */
  private endAttributes(step: Step): Attributes | undefined {
    switch (step.kind) {
      case "chat": {
        const c = step.chat;
        if (!c) return undefined;
        const a: Attributes = {};
        if (c.responseModel !== undefined) a[sc.GEN_AI_RESPONSE_MODEL] = c.responseModel;
        if (c.responseId !== undefined) a[sc.GEN_AI_RESPONSE_ID] = c.responseId;
        if (c.finishReasons && c.finishReasons.length > 0) a[sc.GEN_AI_RESPONSE_FINISH_REASONS] = c.finishReasons;
        if (c.timeToFirstChunk !== undefined) a[sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = c.timeToFirstChunk;
        if (c.usage) usageAttributes(c.usage, a);
        else if (step.status === "ok") a[sc.AW_USAGE_MISSING] = true;
        if (c.reasoningTokens !== undefined) a[sc.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = c.reasoningTokens;
        if (c.output !== undefined) a[sc.GEN_AI_OUTPUT_MESSAGES] = c.output;
        if (this.options.vocabularies.size > 0)
          Object.assign(a, vocabularyAttributes(step, this.options.vocabularies, true));
        return a;
      }
      case "tool": {
        const t = step.tool;
        if (!t || (t.result === undefined && t.mcp === undefined)) return undefined;
        const a: Attributes = t.mcp ? mcpAttributes(t.mcp) : {};
        if (t.mcp) a[sc.GEN_AI_TOOL_TYPE] = t.type;
        if (t.result !== undefined) a[sc.GEN_AI_TOOL_CALL_RESULT] = t.result;
        return a;
      }
      case "mcp":
        return step.mcp ? mcpAttributes(step.mcp) : undefined;
      case "recovery": {
        const r = step.recovery;
        if (!r) return undefined;
        const a: Attributes = {
          "agentwarden.recovery.trigger": r.trigger,
          "agentwarden.recovery.cause": r.cause,
          "agentwarden.recovery.action": r.action,
          "agentwarden.recovery.target": r.target,
        };
        if (r.attempts !== undefined) a["agentwarden.recovery.attempts"] = r.attempts;
        if (r.message !== undefined) a["agentwarden.recovery.message"] = r.message;
        return a;
      }
      case "eval": {
        const e = step.eval;
        if (!e) return undefined;
        const a: Attributes = { [sc.GEN_AI_EVALUATION_NAME]: e.name, "agentwarden.eval.target": e.target };
        if (e.pass !== undefined) a[sc.GEN_AI_EVALUATION_SCORE_LABEL] = e.pass ? "pass" : "fail";
        if (e.score !== undefined) a[sc.GEN_AI_EVALUATION_SCORE_VALUE] = e.score;
        if (e.reason !== undefined) a[sc.GEN_AI_EVALUATION_EXPLANATION] = e.reason;
        return a;
      }
      case "guard": {
        const g = step.guard;
        if (!g) return undefined;
        const a: Attributes = {
          "agentwarden.guard": g.guard,
          "agentwarden.guard.point": g.point,
          "agentwarden.guard.action": g.action,
        };
        if (g.decision !== undefined) a["agentwarden.guard.decision"] = g.decision;
        if (g.evaluator !== undefined) a[sc.GEN_AI_EVALUATION_NAME] = g.evaluator;
        if (g.reason !== undefined) a[sc.GEN_AI_EVALUATION_EXPLANATION] = g.reason;
        return a;
      }
      case "agent": {
        // invoke_agent: the provider (required) and model of the agent's model calls, known once one
        // was made; the task's aggregated input and output tokens on the task's own agent span (cache
        // sums are no longer set on internal invoke_agent spans).
        const a: Attributes = {};
        const chat = firstChat(step);
        if (chat) {
          a[sc.GEN_AI_PROVIDER_NAME] = chat.provider;
          if (chat.requestModel !== sc.UNKNOWN_MODEL) a[sc.GEN_AI_REQUEST_MODEL] = chat.requestModel;
        }
        const usage = step.parent === undefined ? step.run.usage : undefined;
        if (usage) {
          a[sc.GEN_AI_USAGE_INPUT_TOKENS] = usage.input;
          a[sc.GEN_AI_USAGE_OUTPUT_TOKENS] = usage.output;
        }
        return chat || usage ? a : undefined;
      }
      default:
        return undefined;
    }
  }
}

function spanName(step: Step, options: ResolvedOptions): string {
  switch (step.kind) {
    case "workflow":
      // No meaningless names: a graph without a name of its own is named by its operation alone.
      return step.graph?.anonymous ? sc.OPERATION_INVOKE_WORKFLOW : `${sc.OPERATION_INVOKE_WORKFLOW} ${step.name}`;
    case "agent":
      return step.graph?.anonymous ? sc.OPERATION_INVOKE_AGENT : `${sc.OPERATION_INVOKE_AGENT} ${step.name}`;
    case "node":
      return options.semconv.nodeSpans === "run_step" ? `${sc.OPERATION_RUN_STEP} ${step.name}` : step.name;
    case "chat":
      // `{operation} {model}`, or the operation alone when the model is not known.
      return step.chat?.requestModel === sc.UNKNOWN_MODEL
        ? sc.OPERATION_CHAT
        : `${sc.OPERATION_CHAT} ${step.chat?.requestModel ?? step.name}`;
    case "tool":
      // A standalone MCP tool call is named as the MCP conventions say: `tools/call {tool}`.
      if (step.tool?.mcp?.ownSpan) return `${step.tool.mcp.method} ${step.tool.name}`;
      return `${sc.OPERATION_EXECUTE_TOOL} ${step.tool?.name ?? step.name}`;
    case "mcp":
      // `{mcp.method.name} {target}`: the prompt of `prompts/get`; resource URIs stay out (cardinality).
      if (step.mcp?.promptName !== undefined) return `${step.mcp.method} ${step.mcp.promptName}`;
      return step.mcp?.method ?? step.name;
    case "eval":
      return `eval ${step.name}`;
    case "guard":
      return `guard ${step.name}`;
    case "recovery":
      return `recover ${step.recovery?.target ?? step.name}`;
    default:
      return step.name;
  }
}

function mcpAttributes(m: NonNullable<Step["mcp"]>): Attributes {
  const a: Attributes = { [sc.MCP_METHOD_NAME]: m.method };
  if (m.requestId !== undefined) a[sc.JSONRPC_REQUEST_ID] = String(m.requestId);
  if (m.protocolVersion !== undefined) a[sc.MCP_PROTOCOL_VERSION] = m.protocolVersion;
  if (m.transport !== undefined) a[sc.NETWORK_TRANSPORT] = m.transport;
  // The 2026-07-28 revision has no sessions: a session id is set only when the transport has one.
  if (m.sessionId !== undefined) a[sc.MCP_SESSION_ID] = m.sessionId;
  if (m.resourceUri !== undefined) a[sc.MCP_RESOURCE_URI] = m.resourceUri;
  if (m.promptName !== undefined) a[sc.GEN_AI_PROMPT_NAME] = m.promptName;
  if (m.statusCode !== undefined) a[sc.RPC_RESPONSE_STATUS_CODE] = m.statusCode;
  return a;
}

function usageAttributes(usage: TokenUsage, a: Attributes): Attributes {
  a[sc.GEN_AI_USAGE_INPUT_TOKENS] = usage.input;
  a[sc.GEN_AI_USAGE_OUTPUT_TOKENS] = usage.output;
  if (usage.cacheRead !== undefined) a[sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = usage.cacheRead;
  if (usage.cacheWrite !== undefined) a[sc.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] = usage.cacheWrite;
  return a;
}

function requestAttributes(p: ChatRequestParams, a: Attributes): void {
  if (p.maxTokens !== undefined) a[sc.GEN_AI_REQUEST_MAX_TOKENS] = p.maxTokens;
  if (p.temperature !== undefined) a[sc.GEN_AI_REQUEST_TEMPERATURE] = p.temperature;
  if (p.topP !== undefined) a[sc.GEN_AI_REQUEST_TOP_P] = p.topP;
  if (p.topK !== undefined) a[sc.GEN_AI_REQUEST_TOP_K] = p.topK;
  if (p.stopSequences !== undefined) a[sc.GEN_AI_REQUEST_STOP_SEQUENCES] = p.stopSequences;
  if (p.frequencyPenalty !== undefined) a[sc.GEN_AI_REQUEST_FREQUENCY_PENALTY] = p.frequencyPenalty;
  if (p.presencePenalty !== undefined) a[sc.GEN_AI_REQUEST_PRESENCE_PENALTY] = p.presencePenalty;
  if (p.seed !== undefined) a[sc.GEN_AI_REQUEST_SEED] = p.seed;
  if (p.choiceCount !== undefined) a[sc.GEN_AI_REQUEST_CHOICE_COUNT] = p.choiceCount;
  if (p.outputType !== undefined) a[sc.GEN_AI_OUTPUT_TYPE] = p.outputType;
}

/** The conversation a step belongs to: the nearest graph run's real thread id. */
export function conversationOf(step: Step): string | undefined {
  for (let s: Step | undefined = step; s; s = s.parent) {
    if (s.graph?.conversationId !== undefined) return s.graph.conversationId;
  }
  return undefined;
}

/** The named agent a step runs in (`gen_ai.agent.name` on its tool calls), when it has a name. */
export function agentNameOf(step: Step): string | undefined {
  for (let s: Step | undefined = step.parent; s; s = s.parent) {
    if (s.kind === "agent") return s.graph?.anonymous ? undefined : s.name;
  }
  return undefined;
}

/** The first model call in an agent run (its own, not a nested agent's): its provider and model. */
export function firstChat(step: Step): NonNullable<Step["chat"]> | undefined {
  for (const c of step.children) {
    if (c.kind === "chat" && c.chat) return c.chat;
    if (c.kind === "node" || c.kind === "recovery") {
      const found = firstChat(c);
      if (found) return found;
    }
  }
  return undefined;
}

/** The SDK provider behind the API's proxy, when it can flush. */
function flushable(provider: TracerProvider): { forceFlush(): Promise<void> } | undefined {
  const p = provider as TracerProvider & { getDelegate?(): TracerProvider; forceFlush?(): Promise<void> };
  if (typeof p.forceFlush === "function") return p as { forceFlush(): Promise<void> };
  const delegate = typeof p.getDelegate === "function" ? p.getDelegate() : undefined;
  return delegate && delegate !== p ? flushable(delegate) : undefined;
}
