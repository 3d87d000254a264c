import type { Attributes, Counter, Histogram, MeterProvider } from "@opentelemetry/api";
import { scoreOf } from "../quality/scores.js";
import { NO_VERSION } from "../quality/versions.js";
import type { McpInfo, Step } from "../run/step.js";
import type { EvalRecord } from "../store/records.js";
import * as sc from "../telemetry/semconv.js";
import { firstChat } from "../telemetry/tracing.js";
import { NameCap } from "./NameCap.js";
import { isLocalRateDecision, type TaskSummary } from "./summary.js";

/** Name prefix of agentwarden's own instruments. */
export const METRIC_PREFIX = "agentwarden";

/**
 * OpenTelemetry instruments, through the API: a no-op until the application registers a
 * MeterProvider. Only counters of events are exported (ratios are computed in PromQL from them),
 * with low-cardinality attributes: agent, tool, model, outcome, kind — never a run id or text.
 */
export class Instruments {
  private readonly tasks: Counter;
  private readonly subtasks: Counter;
  private readonly subtasksCompleted: Counter;
  private readonly failures: Counter;
  private readonly recoveries: Counter;
  private readonly cost: Counter;
  private readonly costUnknown: Counter;
  private readonly tokens: Counter;
  private readonly trips: Counter;
  private readonly inferenceDuration: Histogram;
  private readonly toolDuration: Histogram;
  private readonly invocationDuration: Histogram;
  private readonly agentDuration: Histogram;
  private readonly workflowDuration: Histogram;
  private readonly mcpDuration: Histogram;
  /** The five token counters' sums, shared by every Warden on this MeterProvider (see `tokenSumsOf`). */
  private readonly tokenSums: Map<string, TokenSums>;
  private readonly inputTokensPerCall: Histogram;
  private readonly outputTokensPerCall: Histogram;
  private readonly timeToFirstChunk: Histogram;
  private readonly suspectedLoops: Counter;
  private readonly budgetDecisions: Counter;
  private readonly stateFallbacks: Counter;
  private readonly rateLimited: Counter;
  private readonly taskCost: Histogram;
  private readonly finishReasons: Counter;
  private readonly evalResults: Counter;
  private readonly evalScore: Histogram;
  private readonly evalCost: Counter;
  private readonly evalDropped: Counter;
  private readonly guardDecisions: Counter;
  // Agent, tool and model names (and error types, which a tool or an MCP server chooses) are capped
  // at `maxKeys` distinct values each, later ones `_other`, as the in-process tables are.
  private readonly agents: NameCap;
  private readonly tools: NameCap;
  private readonly models: NameCap;
  private readonly errorTypes: NameCap;
  private readonly versions: NameCap;
  private readonly evalNames: NameCap;
  private readonly reasons: NameCap;
  /** JSON-RPC error codes and protocol versions: chosen by the MCP server, so capped like names. */
  private readonly rpcCodes: NameCap;
  private readonly protocols: NameCap;

  constructor(
    provider: MeterProvider,
    maxKeys: number,
    /** `split`: gen_ai.invoke_agent.duration + gen_ai.workflow.duration; `invocation`: gen_ai.invocation.duration. */
    private readonly invocationMetric: "split" | "invocation" = "split",
  ) {
    this.agents = new NameCap(maxKeys);
    this.tools = new NameCap(maxKeys);
    this.models = new NameCap(maxKeys);
    this.errorTypes = new NameCap(maxKeys);
    this.versions = new NameCap(maxKeys);
    this.evalNames = new NameCap(maxKeys);
    this.reasons = new NameCap(maxKeys);
    this.rpcCodes = new NameCap(maxKeys);
    this.protocols = new NameCap(maxKeys);
    const m = provider.getMeter("agentwarden", "0.1.0");
    const p = METRIC_PREFIX;
    this.budgetDecisions = m.createCounter(`${p}.budget.decisions`, {
      description:
        "Shared-budget reservations before model calls, by outcome (reserved, refused, reserved_local, refused_local, unavailable)",
    });
    this.stateFallbacks = m.createCounter(`${p}.state.fallbacks`, {
      description: "Decisions made on local state because the shared store was unreachable (failOpen)",
    });
    this.rateLimited = m.createCounter(`${p}.rate.limited`, {
      description: "Model calls a rate limit refused, by limit",
    });
    this.suspectedLoops = m.createCounter(`${p}.loops.suspected`, {
      description: "Suspected loops (detected and reported, not stopped), by tool or node",
    });
    this.tasks = m.createCounter(`${p}.tasks`, { description: "Tasks ended, by outcome" });
    this.subtasks = m.createCounter(`${p}.subtasks`, { description: "Subtasks (tool calls) attempted" });
    this.subtasksCompleted = m.createCounter(`${p}.subtasks.completed`, { description: "Subtasks completed" });
    this.failures = m.createCounter(`${p}.failures`, { description: "Failures, by kind (tool, model, eval)" });
    this.recoveries = m.createCounter(`${p}.recoveries`, { description: "Recovered failures, by kind and how" });
    this.cost = m.createCounter(`${p}.cost.usd`, { description: "Priced cost of model and tool calls, in USD" });
    this.costUnknown = m.createCounter(`${p}.cost.unknown_calls`, {
      description: "Model calls whose model has no price",
    });
    this.tokens = m.createCounter(`${p}.tokens`, {
      description: "Tokens, by type (input, output, cache_read, cache_write)",
    });
    this.trips = m.createCounter(`${p}.breaker.trips`, { description: "Breaker trips, by kind" });
    this.taskCost = m.createHistogram(`${p}.task.cost.usd`, {
      description: "Priced cost of each task in USD (its p95 is the cost-per-request alert's figure)",
      unit: "USD",
      advice: {
        explicitBucketBoundaries: [0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30],
      },
    });
    this.finishReasons = m.createCounter(`${p}.model.finish_reasons`, {
      description: "Model call finish reasons (stop, length, tool_calls, content_filter, ...)",
    });
    this.evalResults = m.createCounter(`${p}.eval.results`, {
      description: "Evaluation results (in-task and online evaluators, user feedback), by name, source and result",
    });
    this.evalScore = m.createHistogram(`${p}.eval.score`, {
      description: "Evaluation scores (in-task and online evaluators, user feedback), by name and source",
      advice: { explicitBucketBoundaries: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1] },
    });
    this.evalCost = m.createCounter(`${p}.eval.cost.usd`, {
      description: "Judge cost of online evaluations in USD (beside the agents' own cost)",
    });
    this.guardDecisions = m.createCounter(`${p}.guard.decisions`, {
      description:
        "Guard decisions, by point, configured action and decision (continue, block, redact, escalate, approve, edit, reject)",
    });
    this.evalDropped = m.createCounter(`${p}.eval.dropped`, {
      description: "Sampled tasks not evaluated: queue full, or the evaluation budget spent",
    });
    const seconds = {
      unit: "s",
      advice: {
        explicitBucketBoundaries: [
          0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
        ],
      },
    };
    this.inferenceDuration = m.createHistogram("gen_ai.client.inference.duration", {
      description: "GenAI model call duration",
      ...seconds,
    });
    this.toolDuration = m.createHistogram("gen_ai.execute_tool.duration", {
      description: "Tool call duration",
      ...seconds,
    });
    this.invocationDuration = m.createHistogram("gen_ai.invocation.duration", {
      description: "Agent or workflow invocation duration",
      ...seconds,
    });
    this.agentDuration = m.createHistogram("gen_ai.invoke_agent.duration", {
      description: "The end-to-end duration of a single agent invocation",
      ...seconds,
    });
    this.workflowDuration = m.createHistogram("gen_ai.workflow.duration", {
      description: "GenAI workflow duration",
      ...seconds,
    });
    this.mcpDuration = m.createHistogram("mcp.client.operation.duration", {
      description: "The duration of the MCP request as observed on the sender",
      ...seconds,
    });
    this.timeToFirstChunk = m.createHistogram("gen_ai.client.inference.time_to_first_chunk", {
      description: "Time to receive the first chunk of a streamed model call",
      ...seconds,
    });
    const tokens = { unit: "{token}" };
    this.tokenSums = tokenSumsOf(provider, m, tokens);
    const tokenBuckets = {
      advice: { explicitBucketBoundaries: [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576] },
    };
    this.inputTokensPerCall = m.createHistogram("gen_ai.client.inference.operation.input_tokens", {
      description: "The number of input (prompt) tokens used per inference operation",
      ...tokens,
      ...tokenBuckets,
    });
    this.outputTokensPerCall = m.createHistogram("gen_ai.client.inference.operation.output_tokens", {
      description: "The number of output (completion) tokens used per inference operation",
      ...tokens,
      ...tokenBuckets,
    });
  }

  /** The shared-state decisions made before a model call (budget reservations, rate limits). */
  private recordDecisions(step: Step): void {
    for (const e of step.events ?? []) {
      if (e.name === "agentwarden.budget.reserve") {
        const outcome = String(e.attributes?.["agentwarden.budget.outcome"]);
        this.budgetDecisions.add(1, { outcome });
        if (outcome.endsWith("_local")) this.stateFallbacks.add(1);
      } else if (e.name === "agentwarden.rate.limited") {
        this.rateLimited.add(1, { name: String(e.attributes?.["agentwarden.rate.name"]) });
      }
      if (isLocalRateDecision(e)) this.stateFallbacks.add(1);
    }
  }

  recordStep(step: Step): void {
    const seconds = (step.duration ?? 0) / 1000;
    const error =
      step.status === "error"
        ? { [sc.ERROR_TYPE]: this.errorTypes.name(step.error?.type ?? sc.ERROR_TYPE_OTHER) }
        : undefined;
    switch (step.kind) {
      case "eval": {
        // In-task evaluators (final checks, corrections, guards): results and a score histogram per
        // evaluator, beside the online ones (`source`: `inline`). A verdict without a score counts 1 or 0.
        const e = step.eval;
        if (!e || step.status === "running") break;
        const a: Attributes = {
          name: this.evalNames.name(e.name),
          source: "inline",
          agent: this.agents.name(step.run.name),
        };
        const pass = e.pass ?? step.status === "ok";
        this.evalResults.add(1, { ...a, result: pass ? "pass" : "fail" });
        this.evalScore.record(e.score ?? (pass ? 1 : 0), a);
        break;
      }
      case "guard": {
        const g = step.guard;
        if (g?.decision !== undefined)
          this.guardDecisions.add(1, { point: g.point, action: g.action, decision: g.decision });
        break;
      }
      case "chat": {
        if (step.events) this.recordDecisions(step);
        const c = step.chat;
        const a: Attributes = {
          [sc.GEN_AI_OPERATION_NAME]: sc.OPERATION_CHAT,
          [sc.GEN_AI_PROVIDER_NAME]: c?.provider ?? sc.ERROR_TYPE_OTHER,
          ...error,
        };
        const model = c?.requestModel ?? step.name;
        if (model !== sc.UNKNOWN_MODEL) a[sc.GEN_AI_REQUEST_MODEL] = this.models.name(model);
        if (c?.responseModel !== undefined) a[sc.GEN_AI_RESPONSE_MODEL] = this.models.name(c.responseModel);
        this.inferenceDuration.record(seconds, a);
        // Every call is counted, failed ones and those without reported usage too (0, as the
        // conventions say); there is no modality breakdown, hence `unknown`.
        const u = c?.usage;
        // JSON, not a join: provider and model names come from models and their providers, and a
        // name holding the separator could make two series one (test: token sums keyed by untrusted names).
        const key = JSON.stringify([
          a[sc.GEN_AI_PROVIDER_NAME],
          a[sc.GEN_AI_REQUEST_MODEL],
          a[sc.GEN_AI_RESPONSE_MODEL],
        ]);
        let sums = this.tokenSums.get(key);
        if (sums === undefined) {
          const usage: Attributes = { ...a, [sc.GEN_AI_TOKEN_MODALITY]: "unknown" };
          delete usage[sc.ERROR_TYPE];
          sums = { attributes: usage, input: 0, output: 0, cacheRead: 0, cacheWrite: 0, reasoning: 0 };
          this.tokenSums.set(key, sums);
        }
        sums.input += u?.input ?? 0;
        sums.output += u?.output ?? 0;
        sums.cacheRead += u?.cacheRead ?? 0;
        sums.cacheWrite += u?.cacheWrite ?? 0;
        sums.reasoning += c?.reasoningTokens ?? 0;
        this.inputTokensPerCall.record(u?.input ?? 0, a);
        this.outputTokensPerCall.record(u?.output ?? 0, a);
        if (c?.timeToFirstChunk !== undefined) {
          const t: Attributes = { ...a };
          delete t[sc.ERROR_TYPE];
          this.timeToFirstChunk.record(c.timeToFirstChunk, t);
        }
        break;
      }
      case "tool": {
        this.toolDuration.record(seconds, {
          [sc.GEN_AI_OPERATION_NAME]: sc.OPERATION_EXECUTE_TOOL,
          [sc.GEN_AI_TOOL_NAME]: this.tools.name(step.name),
          ...(step.tool ? { [sc.GEN_AI_TOOL_TYPE]: step.tool.type } : {}),
          ...error,
        });
        if (step.tool?.mcp) this.recordMcp(step.tool.mcp, seconds, error, this.tools.name(step.name));
        break;
      }
      case "mcp":
        if (step.mcp) this.recordMcp(step.mcp, seconds, error);
        break;
      case "agent":
      case "workflow": {
        const agent = step.kind === "agent";
        const named = step.graph?.anonymous !== true;
        const a: Attributes = {
          [sc.GEN_AI_OPERATION_NAME]: agent ? sc.OPERATION_INVOKE_AGENT : sc.OPERATION_INVOKE_WORKFLOW,
          ...(named ? { [agent ? sc.GEN_AI_AGENT_NAME : sc.GEN_AI_WORKFLOW_NAME]: this.agents.name(step.name) } : {}),
          ...error,
        };
        if (this.invocationMetric === "invocation") {
          this.invocationDuration.record(seconds, { ...a, "gen_ai.invocation.is_nested": step.parent !== undefined });
        } else if (agent) {
          const chat = firstChat(step);
          if (chat) {
            a[sc.GEN_AI_PROVIDER_NAME] = chat.provider;
            if (chat.requestModel !== sc.UNKNOWN_MODEL)
              a[sc.GEN_AI_REQUEST_MODEL] = this.models.name(chat.requestModel);
          }
          this.agentDuration.record(seconds, a);
        } else {
          delete a[sc.GEN_AI_OPERATION_NAME];
          this.workflowDuration.record(seconds, a);
        }
        break;
      }
    }
  }

  private recordMcp(m: McpInfo, seconds: number, error: Attributes | undefined, tool?: string): void {
    const a: Attributes = { [sc.MCP_METHOD_NAME]: m.method, ...error };
    if (tool !== undefined) {
      a[sc.GEN_AI_TOOL_NAME] = tool;
      a[sc.GEN_AI_OPERATION_NAME] = sc.OPERATION_EXECUTE_TOOL;
    }
    if (m.promptName !== undefined) a[sc.GEN_AI_PROMPT_NAME] = this.tools.name(m.promptName);
    if (m.protocolVersion !== undefined) a[sc.MCP_PROTOCOL_VERSION] = this.protocols.name(m.protocolVersion);
    if (m.transport !== undefined) a[sc.NETWORK_TRANSPORT] = m.transport;
    if (m.statusCode !== undefined) a[sc.RPC_RESPONSE_STATUS_CODE] = this.rpcCodes.name(m.statusCode);
    this.mcpDuration.record(seconds, a);
  }

  recordTask(s: TaskSummary): void {
    const agent: Attributes = { agent: this.agents.name(s.agent) };
    if (s.version !== undefined) agent.version = this.versions.name(s.version);
    this.tasks.add(1, { ...agent, outcome: s.outcome });
    if (s.outcome === "success" || s.outcome === "failure") this.taskCost.record(s.costUsd, agent);
    for (const [reason, n] of Object.entries(s.finishReasons ?? {}))
      if (n) this.finishReasons.add(n, { ...agent, finish_reason: this.reasons.name(reason) });
    for (const [tool, f] of Object.entries(s.tools)) {
      const a = { ...agent, tool: this.tools.name(tool) };
      if (f.calls) this.subtasks.add(f.calls, a);
      if (f.completed) this.subtasksCompleted.add(f.completed, a);
    }
    if (s.subtasks > 0 && Object.keys(s.tools).length === 0) {
      // Subtasks counted per node execution: no tool attribute.
      this.subtasks.add(s.subtasks, agent);
      if (s.completedSubtasks) this.subtasksCompleted.add(s.completedSubtasks, agent);
    }
    for (const kind of ["tool", "model", "eval"] as const) {
      if (s.failures[kind]) this.failures.add(s.failures[kind], { ...agent, kind });
    }
    for (const kind of ["tool", "model", "eval"] as const) {
      const injected = s.recoveredInjected[kind];
      const organic = s.recovered[kind] - injected;
      if (organic) this.recoveries.add(organic, { ...agent, kind, how: "organic" });
      if (injected) this.recoveries.add(injected, { ...agent, kind, how: "injected" });
    }
    for (const [model, f] of Object.entries(s.models)) {
      const a = { ...agent, model: this.models.name(model) };
      if (f.costUsd > 0) this.cost.add(f.costUsd, a);
      if (f.costUnknownCalls) this.costUnknown.add(f.costUnknownCalls, a);
      if (f.tokens.input) this.tokens.add(f.tokens.input, { ...a, type: "input" });
      if (f.tokens.output) this.tokens.add(f.tokens.output, { ...a, type: "output" });
      if (f.tokens.cacheRead) this.tokens.add(f.tokens.cacheRead, { ...a, type: "cache_read" });
      if (f.tokens.cacheWrite) this.tokens.add(f.tokens.cacheWrite, { ...a, type: "cache_write" });
    }
    for (const [tool, f] of Object.entries(s.tools))
      if (f.costUsd > 0) this.cost.add(f.costUsd, { ...agent, tool: this.tools.name(tool) });
    for (const [name, n] of Object.entries(s.suspectedLoops ?? {}))
      if (n) this.suspectedLoops.add(n, { ...agent, name: this.tools.name(name) });
    for (const [kind, n] of Object.entries(s.trips)) if (n) this.trips.add(n, { ...agent, kind });
  }

  /** One evaluation record's counters (`version`: the run's, resolved by the caller). */
  recordEval(r: EvalRecord, version: string | undefined): void {
    const a: Attributes = {
      name: this.evalNames.name(r.name),
      source: r.type === "feedback" ? "feedback" : "online",
      version: version === undefined ? NO_VERSION : this.versions.name(version),
    };
    if (r.agent !== undefined) a.agent = this.agents.name(r.agent);
    const pass = r.pass ?? (r.thumbs === undefined ? undefined : r.thumbs === "up");
    this.evalResults.add(1, { ...a, result: pass === undefined ? "none" : pass ? "pass" : "fail" });
    const score = scoreOf(r);
    if (score !== undefined) this.evalScore.record(score, a);
    if (r.costUsd) this.evalCost.add(r.costUsd, a);
  }

  /** A sampled task not evaluated (`queue_full`, `budget`). */
  recordEvalDropped(reason: string): void {
    this.evalDropped.add(1, { reason });
  }
}

/**
 * The five token counters of a MeterProvider, summed in process per attribute set and read by the
 * SDK when it collects (asynchronous counters): the SDK hashes a data point's attributes on every
 * synchronous `add`, five times per model call for the same attributes (measured: the metrics SDK
 * was the second largest cost with 5,000 tasks in flight). One set of sums and one callback per
 * MeterProvider, shared by every Warden on it: two callbacks observing the same attributes would
 * each report their own sum, and the SDK keeps one (test: "two Wardens on one MeterProvider").
 * Keyed by provider, request and response model.
 */
const tokenSumsByProvider = new WeakMap<MeterProvider, Map<string, TokenSums>>();

function tokenSumsOf(
  provider: MeterProvider,
  m: ReturnType<MeterProvider["getMeter"]>,
  tokens: { unit: string },
): Map<string, TokenSums> {
  const known = tokenSumsByProvider.get(provider);
  if (known) return known;
  const sums = new Map<string, TokenSums>();
  tokenSumsByProvider.set(provider, sums);
  const input = m.createObservableCounter("gen_ai.client.inference.usage.input_tokens", {
    description: "The number of input (prompt) tokens used, including cached tokens",
    ...tokens,
  });
  const output = m.createObservableCounter("gen_ai.client.inference.usage.output_tokens", {
    description: "The number of output (completion) tokens used, including reasoning tokens",
    ...tokens,
  });
  const cacheRead = m.createObservableCounter("gen_ai.client.inference.usage.cache_read.input_tokens", {
    description: "The number of input tokens served from a provider-managed cache",
    ...tokens,
  });
  const cacheWrite = m.createObservableCounter("gen_ai.client.inference.usage.cache_write.input_tokens", {
    description: "The number of input tokens written to a provider-managed cache",
    ...tokens,
  });
  const reasoning = m.createObservableCounter("gen_ai.client.inference.usage.reasoning.output_tokens", {
    description: "The number of output tokens used for reasoning",
    ...tokens,
  });
  m.addBatchObservableCallback(
    (observer) => {
      for (const t of sums.values()) {
        observer.observe(input, t.input, t.attributes);
        observer.observe(output, t.output, t.attributes);
        observer.observe(cacheRead, t.cacheRead, t.attributes);
        observer.observe(cacheWrite, t.cacheWrite, t.attributes);
        observer.observe(reasoning, t.reasoning, t.attributes);
      }
    },
    [input, output, cacheRead, cacheWrite, reasoning],
  );
  return sums;
}

/** One attribute set's token sums (see `tokenSumsOf`). */
interface TokenSums {
  attributes: Attributes;
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  reasoning: number;
}
