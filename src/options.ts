import type { MeterProvider, TracerProvider } from "@opentelemetry/api";
import { z } from "zod";
import { configError, describe } from "./configError.js";
import type { ErrorHook } from "./hub.js";
import type { SubtaskRule } from "./metrics/summary.js";
import type { TripAction } from "./policies/BreakersConfig.js";
import type { BudgetStore, RateLimit, SharedBudget } from "./policies/budgetStore.js";
import { type Limits, limitsSchema, MAX_TIMER_MS } from "./policies/limits.js";
import { DEFAULT_LOOP_REPEATS, DEFAULT_LOOP_WINDOW, type LoopOptions } from "./policies/loops.js";
import type { RecoveryConfig } from "./policies/recovery/RecoveryConfig.js";
import type { ToolErrorHandler } from "./policies/recovery/ToolFailure.js";
import type { ToolBreakerOptions } from "./policies/ToolBreakers.js";
import type { Trip } from "./policies/trip.js";
import type { StateStore } from "./state/StateStore.js";

export type { ToolErrorContext } from "./policies/recovery/ToolFailure.js";

import type { ModelPrice } from "./pricing/PriceTable.js";
import { type OnlineEvalOptions, onlineSchema, type ResolvedOnline, resolveOnline } from "./quality/onlineOptions.js";
import { type Redactor, redactSecrets } from "./redact.js";
import type { Run } from "./run/run.js";
import { nullTable } from "./tables.js";
import type { LoggerProviderLike } from "./telemetry/evaluationEvents.js";

/** Default of `WardenOptions.tracing`: spans are emitted. */
export const DEFAULT_TRACING = true;
/** Default of `WardenOptions.captureContent`: prompts, messages and tool payloads are not captured. */
export const DEFAULT_CAPTURE_CONTENT = false;
/** Default of `WardenOptions.maxContentLength`: captured values are cut to this many characters. */
export const DEFAULT_MAX_CONTENT_LENGTH = 16_384;

/** Default of `WardenOptions.flushTimeoutMs`: `flush()`/`shutdown()` wait this long per subscriber. */
export const DEFAULT_FLUSH_TIMEOUT_MS = 30_000;

/** Default of `metrics.windowTasks`: the sliding window over the last 100 tasks. */
export const DEFAULT_WINDOW_TASKS = 100;
/** Default of `metrics.windowSeconds`: the sliding window over the last 5 minutes. */
export const DEFAULT_WINDOW_SECONDS = 300;
/** Default of `metrics.maxKeys`: distinct agent, tool, model or node names kept per table. */
export const DEFAULT_MAX_KEYS = 500;

export interface MetricsOptions {
  /** Size of the last-N-tasks window. Default 100 (`DEFAULT_WINDOW_TASKS`). */
  windowTasks?: number;
  /** Length of the last-T-seconds window. Default 300 (`DEFAULT_WINDOW_SECONDS`). */
  windowSeconds?: number;
  /** What counts as a subtask: `"tool"` (each tool call, the default) or `"node"` (each node execution). */
  subtask?: SubtaskRule;
  /** Names kept per table (agents, tools, models, nodes); the rest fold into `_other`. Default 500. */
  maxKeys?: number;
}

/** Default of `defaultMaxOutputTokens`: the output assumed for a model call that sets no limit. */
export const DEFAULT_MAX_OUTPUT_TOKENS = 4_096;

/** Default of `recovery.retry`: attempts in all (the first included), and the backoff's bounds. */
export const DEFAULT_RETRY = { maxAttempts: 3, initialDelayMs: 200, maxDelayMs: 10_000 } as const;

export interface RecoveryOptions {
  /**
   * Retry transient tool failures (timeouts, 429, 5xx, resets) with exponential backoff and jitter
   * (cockatiel). Default `{ maxAttempts: 3, initialDelayMs: 200, maxDelayMs: 10000 }`; `false` off.
   */
  retry?: { maxAttempts?: number; initialDelayMs?: number; maxDelayMs?: number } | false;
  /** A fallback tool per tool name, called with the same arguments when the tool still fails. */
  fallbacks?: Record<string, unknown>;
  /**
   * When a tool call still fails, answer it with a corrective message for the model (the tool, the
   * error class, the expected argument schema, what to change; no stack traces, redacted). Default true.
   */
  correctiveMessages?: boolean;
  /** Your own handler, tried before the corrective message: return the text the model should read, or undefined. */
  onToolError?: ToolErrorHandler;
}

/** Extra attribute vocabularies a span can carry beside `gen_ai.*`, for backends keyed on them. */
export type Vocabulary = "openinference" | "traceloop";

/**
 * Where the GenAI conventions are still moving, the choice agentwarden makes by default and the
 * alternative, one option away.
 */
export interface SemconvOptions {
  /**
   * Graph node spans. `"langgraph"` (default): named after the node, with `langgraph.node`,
   * `langgraph.step`, `langgraph.attempt` only (no convention exists yet). `"run_step"`: the open
   * upstream proposal, `run_step {node}` with `gen_ai.operation.name=run_step` and `gen_ai.step.name`.
   */
  nodeSpans?: "langgraph" | "run_step";
  /**
   * Agent and workflow durations. `"split"` (default, the conventions' model files):
   * `gen_ai.invoke_agent.duration` and `gen_ai.workflow.duration`. `"invocation"`: the open pull
   * request's single `gen_ai.invocation.duration` with `gen_ai.invocation.is_nested`.
   */
  invocationDuration?: "split" | "invocation";
}

export interface WardenOptions {
  /** Emit OpenTelemetry spans for every step. Default `true` (`DEFAULT_TRACING`). */
  tracing?: boolean;
  /**
   * Where spans go. Default: the global provider (`trace.getTracerProvider()`), a no-op until an
   * OpenTelemetry SDK is registered.
   */
  tracerProvider?: TracerProvider;
  /**
   * Spans under a trace the sampler dropped. `"skip"` (default): once a step's span and its
   * parent's are both unsampled (not recording), agentwarden starts no spans for that step's
   * descendants; they run in the nearest started span's context (same trace id, sampled flag off),
   * so a sampled-out task costs next to nothing in tracing. Right for every parent-based,
   * trace-id-ratio or always-on/off sampler (the SDK's default and every `OTEL_TRACES_SAMPLER`
   * choice). `"create"`: a span for every step regardless, for a sampler that may keep a span whose
   * parent it dropped (one plugged in that decides by span name or attributes, such as a remote
   * Jaeger or X-Ray sampler).
   */
  sampledOutSpans?: "skip" | "create";
  /**
   * An OpenTelemetry Logs API `LoggerProvider` (`@opentelemetry/api-logs`, an optional peer): each
   * evaluation result is then a `gen_ai.evaluation.result` log record parented to the evaluated
   * span. Default none: the result is a span event on the evaluated span.
   */
  loggerProvider?: LoggerProviderLike;
  /**
   * Capture prompts, messages, tool arguments and results on steps and spans. Default `false`
   * (`DEFAULT_CAPTURE_CONTENT`). Every captured value passes `redact` first.
   */
  captureContent?: boolean;
  /** Runs on every captured value and error message. Default `redactSecrets` (the kinds in `SECRET_KINDS`). */
  redact?: Redactor;
  /** Captured values are cut to this many characters. Default 16384 (`DEFAULT_MAX_CONTENT_LENGTH`). */
  maxContentLength?: number;
  /** Also emit OpenInference and/or Traceloop attributes on each span. Default none. */
  vocabularies?: Vocabulary[];
  /** Choices where the GenAI conventions are still moving (node spans, invocation duration). */
  semconv?: SemconvOptions;
  /**
   * Agent metrics (ASF, ERR, CPCS and their companions) aggregated in process and exported as
   * OpenTelemetry counters. Default on; `false` turns the aggregation and the instruments off.
   */
  metrics?: boolean | MetricsOptions;
  /** Where metric instruments go. Default: the global provider (`metrics.getMeterProvider()`). */
  meterProvider?: MeterProvider;
  /**
   * Model prices in USD per million tokens, by model id, overriding and extending the dated
   * defaults (`DEFAULT_PRICES`). A model with no price has unknown cost, counted, never 0.
   */
  prices?: Record<string, ModelPrice>;
  /** Path of a local run store: one JSON line per finished task, append-only. Default: none. */
  store?: string;
  /**
   * Serve the local dashboard from this process, for `store`, with the tasks in progress shown live,
   * step by step. `true` for the defaults (127.0.0.1, port 5317); an object to set `port` (0: a
   * free one), `host` or `allowedHosts`. `warden.dashboard` resolves to its URL. Default off.
   */
  dashboard?: boolean | { port?: number; host?: string; allowedHosts?: string[] };
  /**
   * Recovery steps when a tool call fails: retry transient failures, call a fallback, tell the model
   * how to fix its call. Default off; `{}` turns on retries (3 attempts) and corrective messages.
   */
  recovery?: RecoveryOptions | false;
  /** A cost in USD per call of a tool (many tools, MCP ones especially, are paid APIs), added to the task's cost. */
  toolCosts?: Record<string, number>;
  /** Limits of every task (cost, tokens, steps, depth, wall time, tool calls); each invoke may override them. */
  limits?: Limits;
  /**
   * What a breaker trip does: `"abort"` (default: the invoke rejects with a BreakerTripError carrying
   * the partial state), `"finalize"` (the agent is led to a final answer saying why it stopped),
   * `"ask"` (the task pauses with `interrupt()`; resumed with approval the limit is raised for that
   * task, with rejection it ends as `abort` does; needs a checkpointer), or a function deciding per
   * trip (it may also return `"continue"` to let the task go on).
   */
  onTrip?: TripAction | ((trip: Trip, run: Run) => TripAction | "continue");
  /**
   * Loop detection. Default on, report only: the 5th identical tool call within the last 50 (the
   * earlier ones having returned the same result) is reported as a suspected loop, and nothing
   * else changes. `{ stop: true }` stops looping tasks (a corrective hint first, then a trip).
   * `false` turns detection off.
   */
  loops?: LoopOptions | false;
  /** Per-tool circuit breakers across tasks. Default off; `{}` for 5 consecutive failures, 30 s open. */
  toolBreaker?: ToolBreakerOptions | false;
  /** Budgets shared by the tasks of a thread, a tenant or any key, over a rolling window. */
  sharedBudgets?: SharedBudget[];
  /** Where shared budgets keep their spending. Default: on `state`, else in memory (`MemoryBudgetStore`). */
  budgetStore?: BudgetStore;
  /**
   * The StateStore shared budgets, rate limits and tool breakers keep their state in. Default: in
   * this process's memory. A store shared by many workers (`agentwarden/redis`) makes every limit
   * hold across them; with it, `toolBreaker` is shared too (one probe in half-open for the fleet).
   */
  state?: StateStore;
  /** Requests and tokens per minute per model, tenant, thread or key, before each model call. */
  rateLimits?: RateLimit[];
  /** How long a model call's budget reservation lives if its worker never settles it. Default 600 000 ms. */
  reservationTtlMs?: number;
  /** Output tokens assumed by the cost guard for a call that sets no limit of its own. Default 4096. */
  defaultMaxOutputTokens?: number;
  /**
   * Receives every telemetry failure (a throwing subscriber, processor or exporter). The agent is
   * never affected. Default: one `process.emitWarning` per failing source, then silence.
   */
  onError?: ErrorHook;
  /**
   * How long `flush()` and `shutdown()` wait for each subscriber (the tracing one flushes the span
   * processors): one that has not settled by then is given up, reported through `onError` (source
   * `flush:{name}` or `shutdown:{name}`) and counted in `stats().telemetryErrors`. Default 30000
   * (`DEFAULT_FLUSH_TIMEOUT_MS`); at most `MAX_TIMER_MS`.
   */
  flushTimeoutMs?: number;
  /**
   * Online evaluation: evaluators run after a task ends, off the agent's path, on a sample of
   * tasks, from a bounded queue, under a cost budget; results go to the store and the metrics.
   * Default off.
   */
  online?: OnlineEvalOptions;
}

/** @internal The options with every default applied. */
export interface ResolvedOptions {
  tracing: boolean;
  tracerProvider: TracerProvider | undefined;
  sampledOutSpans: "skip" | "create";
  loggerProvider: LoggerProviderLike | undefined;
  captureContent: boolean;
  redact: Redactor;
  maxContentLength: number;
  vocabularies: ReadonlySet<Vocabulary>;
  semconv: Required<SemconvOptions>;
  onError: ErrorHook | undefined;
  metrics: Required<MetricsOptions> | false;
  meterProvider: MeterProvider | undefined;
  prices: Record<string, ModelPrice>;
  store: string | undefined;
  dashboard: { port?: number; host?: string; allowedHosts?: string[] } | undefined;
  recovery: RecoveryConfig | false;
  toolCosts: Record<string, number>;
  limits: Limits;
  onTrip: TripAction | ((trip: Trip, run: Run) => TripAction | "continue");
  loops: Required<LoopOptions> | false;
  toolBreaker: ToolBreakerOptions | false;
  sharedBudgets: SharedBudget[];
  budgetStore: BudgetStore | undefined;
  state: StateStore | undefined;
  rateLimits: RateLimit[];
  reservationTtlMs: number;
  defaultMaxOutputTokens: number;
  flushTimeoutMs: number;
  online: ResolvedOnline | undefined;
}

const fn = (what: string) =>
  z.custom<(...args: never[]) => unknown>((v) => typeof v === "function", { message: `expected ${what}` });

const schema = z.strictObject({
  online: onlineSchema.optional(),
  tracing: z.boolean().optional(),
  sampledOutSpans: z.enum(["skip", "create"]).optional(),
  tracerProvider: z
    .custom<TracerProvider>((v) => typeof (v as TracerProvider | null)?.getTracer === "function", {
      message: "expected a TracerProvider (an object with getTracer())",
    })
    .optional(),
  loggerProvider: z
    .custom<LoggerProviderLike>((v) => typeof (v as LoggerProviderLike | null)?.getLogger === "function", {
      message: "expected a LoggerProvider (an object with getLogger())",
    })
    .optional(),
  captureContent: z.boolean().optional(),
  redact: fn("a function (text, field) => string").optional(),
  maxContentLength: z.number().int().min(1).optional(),
  vocabularies: z.array(z.enum(["openinference", "traceloop"])).optional(),
  semconv: z
    .strictObject({
      nodeSpans: z.enum(["langgraph", "run_step"]).optional(),
      invocationDuration: z.enum(["split", "invocation"]).optional(),
    })
    .optional(),
  onError: fn("a function (error, source) => void").optional(),
  metrics: z
    .union([
      z.boolean(),
      z.strictObject({
        windowTasks: z.number().int().min(1).max(1_000_000).optional(),
        windowSeconds: z
          .number()
          .min(1)
          .max(31 * 24 * 3600)
          .optional(),
        subtask: z.enum(["tool", "node"]).optional(),
        maxKeys: z.number().int().min(1).optional(),
      }),
    ])
    .optional(),
  meterProvider: z
    .custom<MeterProvider>((v) => typeof (v as MeterProvider | null)?.getMeter === "function", {
      message: "expected a MeterProvider (an object with getMeter())",
    })
    .optional(),
  prices: z.record(z.string(), z.unknown()).optional(),
  store: z.string().min(1).optional(),
  dashboard: z
    .union([
      z.boolean(),
      z.strictObject({
        port: z.number().int().min(0).max(65_535).optional(),
        host: z.string().min(1).optional(),
        allowedHosts: z.array(z.string()).optional(),
      }),
    ])
    .optional(),
  recovery: z
    .union([
      z.literal(false),
      z.strictObject({
        retry: z
          .union([
            z.literal(false),
            z.strictObject({
              maxAttempts: z.number().int().min(1).max(100).optional(),
              initialDelayMs: z.number().min(0).max(MAX_TIMER_MS).optional(),
              maxDelayMs: z.number().min(0).max(MAX_TIMER_MS).optional(),
            }),
          ])
          .optional(),
        fallbacks: z
          .record(
            z.string(),
            z.custom<unknown>((v) => typeof (v as { invoke?: unknown } | null)?.invoke === "function", {
              message: "expected a tool (an object with invoke())",
            }),
          )
          .optional(),
        correctiveMessages: z.boolean().optional(),
        onToolError: fn("a function (context) => string | undefined").optional(),
      }),
    ])
    .optional(),
  toolCosts: z.record(z.string(), z.number().min(0).finite()).optional(),
  limits: limitsSchema.optional(),
  onTrip: z.union([z.enum(["abort", "finalize", "ask"]), fn("a function (trip, run) => action")]).optional(),
  loops: z
    .union([
      z.literal(false),
      z.strictObject({
        repeats: z.number().int().min(2).optional(),
        window: z.number().int().min(2).optional(),
        nearDuplicates: z.boolean().optional(),
        stop: z.boolean().optional(),
        hint: z.boolean().optional(),
        stateCycles: z.boolean().optional(),
      }),
    ])
    .optional(),
  toolBreaker: z
    .union([
      z.literal(false),
      z.strictObject({
        consecutiveFailures: z.number().int().min(1).optional(),
        failureRate: z.number().gt(0).max(1).optional(),
        rateWindowMs: z.number().min(1).optional(),
        minimumCalls: z.number().int().min(1).optional(),
        halfOpenAfterMs: z.number().min(0).optional(),
        probeTimeoutMs: z.number().min(1).max(MAX_TIMER_MS).optional(),
      }),
    ])
    .optional(),
  sharedBudgets: z
    .array(
      z.strictObject({
        name: z.string().min(1),
        key: z.union([z.enum(["task", "thread", "tenant"]), fn("a function (context) => string | undefined")]),
        maxCostUsd: z.number().min(0).finite(),
        windowMs: z.number().min(1),
      }),
    )
    .optional(),
  budgetStore: z
    .custom<BudgetStore>(
      (v) =>
        typeof (v as BudgetStore | null)?.spent === "function" && typeof (v as BudgetStore | null)?.add === "function",
      { message: "expected a BudgetStore (an object with spent() and add())" },
    )
    .optional(),
  state: z
    .custom<StateStore>(
      (v) =>
        ["addToWindow", "windowSum", "get", "set", "acquire", "release", "delete", "reserve", "settle", "take"].every(
          (m) => typeof (v as Record<string, unknown> | null)?.[m] === "function",
        ),
      { message: "expected a StateStore (MemoryStateStore, RedisStateStore, or the same methods)" },
    )
    .optional(),
  rateLimits: z
    .array(
      z.strictObject({
        name: z.string().min(1),
        key: z.union([z.enum(["model", "tenant", "thread"]), fn("a function (context) => string | undefined")]),
        requestsPerMinute: z.number().gt(0).finite().optional(),
        tokensPerMinute: z.number().gt(0).finite().optional(),
        maxWaitMs: z.number().min(0).max(MAX_TIMER_MS).optional(),
      }),
    )
    .optional(),
  reservationTtlMs: z.number().int().min(1).max(MAX_TIMER_MS).optional(),
  defaultMaxOutputTokens: z.number().int().min(1).optional(),
  flushTimeoutMs: z.number().int().min(1).max(MAX_TIMER_MS).optional(),
});

/**
 * Validates options once, at construction. Throws a `TypeError` (wrong type, unknown field) or a
 * `RangeError` (out of range) whose message names the field and the value.
 */
export function resolveOptions(options: WardenOptions | undefined): ResolvedOptions {
  if (options !== undefined && (typeof options !== "object" || options === null || Array.isArray(options))) {
    throw new TypeError(`agentwarden: options must be an object, got ${describe(options)}`);
  }
  const parsed = schema.safeParse(options ?? {});
  if (!parsed.success) throw configError(parsed.error, options ?? {});
  const o = parsed.data;
  if (o.dashboard && o.store === undefined) {
    throw new TypeError("agentwarden: option dashboard is invalid: it needs option store (the runs it shows)");
  }
  return {
    tracing: o.tracing ?? DEFAULT_TRACING,
    tracerProvider: o.tracerProvider,
    sampledOutSpans: o.sampledOutSpans ?? "skip",
    loggerProvider: o.loggerProvider,
    captureContent: o.captureContent ?? DEFAULT_CAPTURE_CONTENT,
    redact: (o.redact as Redactor | undefined) ?? redactSecrets,
    maxContentLength: o.maxContentLength ?? DEFAULT_MAX_CONTENT_LENGTH,
    vocabularies: new Set(o.vocabularies ?? []),
    semconv: {
      nodeSpans: o.semconv?.nodeSpans ?? "langgraph",
      invocationDuration: o.semconv?.invocationDuration ?? "split",
    },
    onError: o.onError as ErrorHook | undefined,
    metrics:
      o.metrics === false
        ? false
        : {
            windowTasks: (typeof o.metrics === "object" ? o.metrics.windowTasks : undefined) ?? DEFAULT_WINDOW_TASKS,
            windowSeconds:
              (typeof o.metrics === "object" ? o.metrics.windowSeconds : undefined) ?? DEFAULT_WINDOW_SECONDS,
            subtask: (typeof o.metrics === "object" ? o.metrics.subtask : undefined) ?? "tool",
            maxKeys: (typeof o.metrics === "object" ? o.metrics.maxKeys : undefined) ?? DEFAULT_MAX_KEYS,
          },
    meterProvider: o.meterProvider,
    prices: (o.prices ?? {}) as Record<string, ModelPrice>,
    store: o.store,
    dashboard: o.dashboard === true ? {} : o.dashboard || undefined,
    recovery: o.recovery
      ? {
          retry:
            o.recovery.retry === false
              ? false
              : {
                  maxAttempts: o.recovery.retry?.maxAttempts ?? DEFAULT_RETRY.maxAttempts,
                  initialDelayMs: o.recovery.retry?.initialDelayMs ?? DEFAULT_RETRY.initialDelayMs,
                  maxDelayMs: o.recovery.retry?.maxDelayMs ?? DEFAULT_RETRY.maxDelayMs,
                },
          // Looked up by tool names an agent or MCP server chose: no prototype (see tables.ts).
          fallbacks: nullTable(o.recovery.fallbacks),
          correctiveMessages: o.recovery.correctiveMessages ?? true,
          onToolError: o.recovery.onToolError as RecoveryOptions["onToolError"],
        }
      : false,
    toolCosts: nullTable(o.toolCosts),
    limits: o.limits ?? {},
    onTrip: (o.onTrip as ResolvedOptions["onTrip"] | undefined) ?? "abort",
    loops:
      o.loops === false
        ? false
        : {
            repeats: o.loops?.repeats ?? DEFAULT_LOOP_REPEATS,
            window: o.loops?.window ?? DEFAULT_LOOP_WINDOW,
            nearDuplicates: o.loops?.nearDuplicates ?? false,
            stop: o.loops?.stop ?? false,
            hint: o.loops?.hint ?? true,
            stateCycles: o.loops?.stateCycles ?? false,
          },
    toolBreaker: o.toolBreaker ?? false,
    sharedBudgets: (o.sharedBudgets ?? []) as SharedBudget[],
    budgetStore: o.budgetStore,
    state: o.state,
    rateLimits: (o.rateLimits ?? []) as RateLimit[],
    reservationTtlMs: o.reservationTtlMs ?? 600_000,
    defaultMaxOutputTokens: o.defaultMaxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS,
    flushTimeoutMs: o.flushTimeoutMs ?? DEFAULT_FLUSH_TIMEOUT_MS,
    online: o.online ? resolveOnline(o.online) : undefined,
  };
}
