import type { Attributes, Counter, Histogram, MeterProvider } from "@opentelemetry/api";
import type { Step } from "../run/step.js";
import * as sc from "../telemetry/semconv.js";
import { NameCap } from "./NameCap.js";
import type { TaskSummary } from "./summary.js";

/** Name prefix of agentwarden's own instruments. */
export const METRIC_PREFIX = "agentwarden";

/**
 * OpenTelemetry instruments, through the API: a no-op until the application registers a
 * MeterProvider. Only counters of events are exported (ratios are computed in PromQL from them),
 * with low-cardinality attributes: agent, tool, model, outcome, kind — never a run id or text.
 * Agent, tool and model names are capped at `maxKeys` distinct values each (later ones are
 * `_other`), as the in-process tables are.
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
  private readonly suspectedLoops: Counter;
  private readonly inferenceDuration: Histogram;
  private readonly toolDuration: Histogram;
  private readonly invocationDuration: Histogram;
  private readonly inputTokens: Counter;
  private readonly outputTokens: Counter;
  private readonly agents: NameCap;
  private readonly tools: NameCap;
  private readonly models: NameCap;
  /** Error types come from the error's class or code, which a tool or an MCP server chooses. */
  private readonly errorTypes: NameCap;

  constructor(provider: MeterProvider, maxKeys: number) {
    this.agents = new NameCap(maxKeys);
    this.tools = new NameCap(maxKeys);
    this.models = new NameCap(maxKeys);
    this.errorTypes = new NameCap(maxKeys);
    const m = provider.getMeter("agentwarden", "0.1.0");
    const p = METRIC_PREFIX;
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
    this.suspectedLoops = m.createCounter(`${p}.loops.suspected`, {
      description: "Suspected loops (detected and reported, not stopped), by tool or node",
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
    this.inputTokens = m.createCounter("gen_ai.client.inference.usage.input_tokens", { unit: "{token}" });
    this.outputTokens = m.createCounter("gen_ai.client.inference.usage.output_tokens", { unit: "{token}" });
  }

  recordStep(step: Step): void {
    const seconds = (step.duration ?? 0) / 1000;
    const error =
      step.status === "error"
        ? { [sc.ERROR_TYPE]: this.errorTypes.name(step.error?.type ?? sc.ERROR_TYPE_OTHER) }
        : undefined;
    switch (step.kind) {
      case "chat": {
        const c = step.chat;
        const a: Attributes = {
          [sc.GEN_AI_OPERATION_NAME]: sc.OPERATION_CHAT,
          [sc.GEN_AI_PROVIDER_NAME]: c?.provider ?? sc.ERROR_TYPE_OTHER,
          [sc.GEN_AI_REQUEST_MODEL]: this.models.name(c?.requestModel ?? step.name),
          ...error,
        };
        this.inferenceDuration.record(seconds, a);
        if (c?.usage) {
          this.inputTokens.add(c.usage.input, a);
          this.outputTokens.add(c.usage.output, a);
        }
        break;
      }
      case "tool":
        this.toolDuration.record(seconds, { [sc.GEN_AI_TOOL_NAME]: this.tools.name(step.name), ...error });
        break;
      case "agent":
      case "workflow":
        this.invocationDuration.record(seconds, {
          [sc.GEN_AI_OPERATION_NAME]: step.kind === "agent" ? sc.OPERATION_INVOKE_AGENT : sc.OPERATION_INVOKE_WORKFLOW,
          [step.kind === "agent" ? sc.GEN_AI_AGENT_NAME : sc.GEN_AI_WORKFLOW_NAME]: this.agents.name(step.name),
          "gen_ai.invocation.is_nested": step.parent !== undefined,
          ...error,
        });
        break;
    }
  }

  recordTask(s: TaskSummary): void {
    const agent = { agent: this.agents.name(s.agent) };
    this.tasks.add(1, { ...agent, outcome: s.outcome });
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
    for (const [kind, n] of Object.entries(s.trips)) if (n) this.trips.add(n, { ...agent, kind });
    for (const [name, n] of Object.entries(s.suspectedLoops ?? {}))
      if (n) this.suspectedLoops.add(n, { ...agent, name });
  }
}
