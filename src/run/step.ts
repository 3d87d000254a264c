import type { RunOf } from "./types.js";
import type { TokenUsage } from "./usage.js";

/**
 * What a step is. `workflow` and `agent` are graph runs (the root of a task, or a nested subgraph);
 * `node` is one execution of a graph node; `chat` one model call; `tool` one tool call; `eval` one
 * evaluator run on an output; `recovery` a step agentwarden put into the run after a failure;
 * `mcp` an MCP request other than a tool call (`tools/list`, `resources/read`, ...); `guard` one
 * guard's decision at a guard point (its evaluators are `eval` steps under it).
 */
export type StepKind = "workflow" | "agent" | "node" | "chat" | "tool" | "eval" | "recovery" | "mcp" | "guard";

/**
 * How a step ended. `interrupted` is a deliberate pause (LangGraph `interrupt()`), `cancelled` the
 * caller's own AbortSignal; neither is an error.
 */
export type StepStatus = "running" | "ok" | "error" | "interrupted" | "cancelled";

/** An error a step ended with, as observed (never the error object itself, so runs stay small). */
export interface StepError {
  /** The error class or provider code (`error.type` in OpenTelemetry); `_OTHER` when unknown. */
  readonly type: string;
  /** Once the step has ended: redacted (field `error.message`) and cut to `maxContentLength`. */
  readonly message: string;
}

/** Facts of a model call, filled by the adapter. */
export interface ChatInfo {
  /** Provider in GenAI semconv terms (`openai`, `anthropic`, `gcp.gemini`, ...). */
  provider: string;
  requestModel: string;
  responseModel?: string;
  /** Token usage as reported by the provider; undefined when it reported none. */
  usage?: TokenUsage;
  /** When the provider reported no usage: an estimate (characters / 4), used for cost and marked so. */
  estimatedUsage?: TokenUsage;
  finishReasons?: string[];
  /** Output tokens spent on reasoning (part of `usage.output`), when the provider reports them. */
  reasoningTokens?: number;
  /** `gen_ai.response.id`, when the provider returned one. */
  responseId?: string;
  /** True for a streamed call (`gen_ai.request.stream`). */
  stream?: boolean;
  /** Streamed calls: seconds from the request to the first chunk. */
  timeToFirstChunk?: number;
  /** Request parameters given to the call (`gen_ai.request.*`), as the conventions name them. */
  request?: ChatRequestParams;
  /**
   * Opt-in content, already redacted, in the conventions' JSON shapes: the request messages, the
   * response, the system instructions and the tool definitions.
   */
  input?: string;
  output?: string;
  systemInstructions?: string;
  toolDefinitions?: string;
}

/** Request parameters of a model call, when given (`gen_ai.request.*`). */
export interface ChatRequestParams {
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  stopSequences?: string[];
  frequencyPenalty?: number;
  presencePenalty?: number;
  seed?: number;
  choiceCount?: number;
  /** `gen_ai.output.type`: `json` when the call asked for structured output. */
  outputType?: "json" | "text";
}

/** Facts of an MCP request (semconv `mcp.*`). */
export interface McpInfo {
  method: string;
  requestId?: number | string;
  protocolVersion?: string;
  /** `pipe` (stdio) or `tcp` (HTTP), when known. */
  transport?: string;
  sessionId?: string;
  /** `rpc.response.status_code`: the JSON-RPC error code of an error response, as a string. */
  statusCode?: string;
  /** `mcp.resource.uri`, on resource methods (`resources/read`, `resources/subscribe`, ...). */
  resourceUri?: string;
  /** `gen_ai.prompt.name`, on `prompts/get`. */
  promptName?: string;
  /** Set when a `tools/call` result came back with `isError: true` (then `error.type` is `tool_error`). */
  toolError?: boolean;
  /** True when the request has a span of its own (a CLIENT span), false when it rides on an execute_tool span. */
  ownSpan: boolean;
}

/** Facts of a tool call, filled by the adapter. */
export interface ToolInfo {
  name: string;
  callId?: string;
  /** The tool's own description (`gen_ai.tool.description`), when it has one. */
  description?: string;
  /** GenAI semconv tool type: `function`, `extension` (MCP and other remote tools) or `datastore`. */
  type: "function" | "extension" | "datastore";
  /** Opt-in content, already redacted. */
  arguments?: string;
  result?: string;
  /** A cost of the call itself in USD (a paid API behind the tool), added to the task's cost. */
  costUsd?: number;
  /** Set on a fallback call: the tool it stands in for, whose failure its success recovers. */
  recovers?: string;
  /** When the call is (or makes) an MCP `tools/call` request. */
  mcp?: McpInfo;
}

/** Facts of an evaluator run. */
export interface EvalInfo {
  name: string;
  /** What was evaluated: `final` (the task's answer) or a node name. */
  target: string;
  pass?: boolean;
  score?: number;
  /** The evaluator's reason; redacted (field `gen_ai.evaluation.explanation`) when the step ends. */
  reason?: string;
}

/** Facts of a guard's decision (a `guard` step). */
export interface GuardInfo {
  /** `input`, `tool` or `output`. */
  point: string;
  /** The guard's place in the options: `tool[0]`. */
  guard: string;
  /** The configured action: `block`, `redact` or `escalate`. */
  action: string;
  /** What was decided: `continue`, `block`, `redact`, `escalate`, then (on resume) `approve`, `edit`, `reject`. */
  decision?: string;
  /** The evaluator whose finding decided. */
  evaluator?: string;
  /** Its reason; redacted (field `gen_ai.evaluation.explanation`) when the step ends. */
  reason?: string;
}

/** What agentwarden did about a failure. */
export type RecoveryAction = "retry" | "fallback" | "corrective_message" | "handler" | "eval_correction";

/** Facts of a recovery step: what triggered it and what was done. */
export interface RecoveryInfo {
  trigger: "tool_error" | "eval_failed";
  /** `transient` or `permanent` for a tool error; the failed check's name for an eval. */
  cause: string;
  action: RecoveryAction;
  /** The tool or node being recovered. */
  target: string;
  /** Attempts made by this recovery (retries, or re-runs of the node). */
  attempts?: number;
  /** The corrective message given to the model (kept only with content capture on). */
  message?: string;
}

/** Facts of a graph run (workflow or agent step). */
export interface GraphInfo {
  /** Low-cardinality name given by the user, or the graph's own name. */
  name: string;
  /** The conversation id, only from a real id (`configurable.thread_id`). */
  conversationId?: string;
  /**
   * True when the graph has no name of its own and `name` is only its kind (`agent`, `workflow`):
   * then no `gen_ai.agent.name` / `gen_ai.workflow.name` is emitted (no meaningless names).
   */
  anonymous?: boolean;
  /** The prompt or agent version the task ran with (`WrapOptions.version`, or the invoke's own). */
  version?: string;
}

/** Facts of a node execution. */
export interface NodeInfo {
  name: string;
  /** LangGraph superstep of this execution (`langgraph_step`); parallel branches share it. */
  superstep?: number;
  /** 1 for the first attempt, 2 for the first retry under a `RetryPolicy`, and so on. */
  attempt: number;
}

/** A timestamped note on a step (an interrupt, a retry, later a breaker trip). */
export interface StepEvent {
  readonly name: string;
  readonly time: number;
  readonly attributes?: Readonly<Record<string, string | number | boolean>>;
}

let nextId = 1;

/**
 * One entry of the run ledger: a workflow, node, model call or tool call, with its timings, status,
 * error and kind-specific facts. Steps form a tree rooted at the task's graph run.
 */
export class Step {
  readonly id = nextId++;
  readonly children: Step[] = [];
  /** Epoch milliseconds with sub-millisecond precision. */
  readonly startTime: number;
  endTime: number | undefined;
  status: StepStatus = "running";
  error: StepError | undefined;
  events: StepEvent[] | undefined;
  chat: ChatInfo | undefined;
  tool: ToolInfo | undefined;
  graph: GraphInfo | undefined;
  node: NodeInfo | undefined;
  eval: EvalInfo | undefined;
  recovery: RecoveryInfo | undefined;
  mcp: McpInfo | undefined;
  guard: GuardInfo | undefined;
  /** On a failed step: the recovery agentwarden injected for it (its success then counts as injected). */
  recoveredBy: RecoveryAction | undefined;
  /** True for a step agentwarden put into the run (a retry, fallback or correction), not the agent. */
  injected = false;
  /**
   * Per-subscriber slots (the tracing subscriber keeps its span here), so no subscriber needs a
   * map from step to state that could outlive the run.
   */
  readonly slots: unknown[] = [];

  constructor(
    readonly run: RunOf,
    readonly kind: StepKind,
    readonly name: string,
    readonly parent: Step | undefined,
    startTime: number,
  ) {
    this.startTime = startTime;
  }

  /** Nesting depth: 0 for the task's root step. */
  get depth(): number {
    let depth = 0;
    for (let p = this.parent; p; p = p.parent) depth++;
    return depth;
  }

  /** Duration in milliseconds, undefined while running. */
  get duration(): number | undefined {
    return this.endTime === undefined ? undefined : this.endTime - this.startTime;
  }

  addEvent(name: string, attributes?: Record<string, string | number | boolean>): void {
    const event: StepEvent = { name, time: now(), ...(attributes ? { attributes } : {}) };
    if (this.events) this.events.push(event);
    else this.events = [event];
  }
}

const origin = performance.timeOrigin;

/** Epoch milliseconds with sub-millisecond precision, monotonic within the process. */
export function now(): number {
  return origin + performance.now();
}
