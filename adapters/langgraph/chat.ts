import { boundedName, type ChatInfo, type ChatRequestParams, type TokenUsage } from "../../src/index.js";
import { UNKNOWN_MODEL } from "../../src/telemetry/semconv.js";
import { matchesStamp, messageStamp } from "./messages.js";

/** LangSmith provider ids (`ls_provider`) mapped to GenAI semconv `gen_ai.provider.name` values. */
const PROVIDERS: Readonly<Record<string, string>> = {
  openai: "openai",
  azure: "azure.ai.openai",
  azure_openai: "azure.ai.openai",
  anthropic: "anthropic",
  google_genai: "gcp.gemini",
  google_vertexai: "gcp.vertex_ai",
  google: "gcp.gen_ai",
  bedrock: "aws.bedrock",
  amazon_bedrock: "aws.bedrock",
  mistral: "mistral_ai",
  mistralai: "mistral_ai",
  groq: "groq",
  deepseek: "deepseek",
  xai: "x_ai",
  cohere: "cohere",
  perplexity: "perplexity",
  ibm: "ibm.watsonx.ai",
};

interface LsParams {
  ls_provider?: unknown;
  ls_model_name?: unknown;
  ls_temperature?: unknown;
  ls_max_tokens?: unknown;
  ls_stop?: unknown;
}

interface ModelLike {
  getLsParams?(options: unknown): LsParams;
  _llmType?(): string;
  model?: unknown;
  modelName?: unknown;
}

/**
 * Provider, requested model and request parameters of a chat model call, from the model's own
 * LangSmith parameters, the call options and the model's fields.
 */
export function requestFacts(
  model: ModelLike,
  options: unknown,
): { provider: string; requestModel: string; params: ChatRequestParams | undefined } {
  let params: LsParams | undefined;
  try {
    params = model.getLsParams?.(options ?? {});
  } catch {
    params = undefined;
  }
  const rawProvider = typeof params?.ls_provider === "string" ? params.ls_provider.toLowerCase() : undefined;
  let provider = rawProvider ? (PROVIDERS[rawProvider] ?? boundedName(rawProvider)) : undefined;
  if (!provider) {
    try {
      provider = model._llmType?.() ?? "_OTHER";
    } catch {
      provider = "_OTHER";
    }
  }
  const requestModel =
    str(params?.ls_model_name) ??
    str((options as { model?: unknown })?.model) ??
    str(model.model) ??
    str(model.modelName) ??
    UNKNOWN_MODEL;
  return { provider, requestModel, params: requestParams(model, options, params) };
}

/** The model fields request parameters are read from. */
const PARAM_FIELDS = [
  "maxTokens",
  "max_tokens",
  "maxOutputTokens",
  "max_completion_tokens",
  "maxCompletionTokens",
  "temperature",
  "topP",
  "top_p",
  "topK",
  "top_k",
  "frequencyPenalty",
  "frequency_penalty",
  "presencePenalty",
  "presence_penalty",
  "seed",
  "n",
  "candidateCount",
  "stop",
  "stopSequences",
] as const;

/**
 * Which of `PARAM_FIELDS` a model instance has (own or inherited), found once per instance: a chat
 * model is a large object, and probing ~20 names (most absent, through its prototype chain) on
 * every call was most of this function's cost (measured). Their values are read at every call, so
 * a setting changed on the model is recorded from the next call on (one a model class declares
 * nowhere, added to an instance after its first call, is not).
 */
const modelFieldNames = new WeakMap<object, readonly string[]>();

function fieldsOf(model: unknown): Record<string, unknown> {
  if (typeof model !== "object" || model === null) return {};
  let names = modelFieldNames.get(model);
  if (names === undefined) {
    names = PARAM_FIELDS.filter((k) => k in model);
    modelFieldNames.set(model, names);
  }
  const fields: Record<string, unknown> = {};
  for (const k of names) fields[k] = (model as Record<string, unknown>)[k];
  return fields;
}

/** `gen_ai.request.*`: what the call was asked for, from its options, else the model's settings. */
function requestParams(model: unknown, options: unknown, ls: LsParams | undefined): ChatRequestParams | undefined {
  const o = (typeof options === "object" && options !== null ? options : {}) as Record<string, unknown>;
  const m = fieldsOf(model);
  const pick = (a: string, b?: string, c?: string, d?: string, e?: string) =>
    num(o[a] ?? m[a]) ??
    (b === undefined ? undefined : num(o[b] ?? m[b])) ??
    (c === undefined ? undefined : num(o[c] ?? m[c])) ??
    (d === undefined ? undefined : num(o[d] ?? m[d])) ??
    (e === undefined ? undefined : num(o[e] ?? m[e]));
  const p: ChatRequestParams = {};
  const maxTokens =
    pick("maxTokens", "max_tokens", "maxOutputTokens", "max_completion_tokens", "maxCompletionTokens") ??
    num(ls?.ls_max_tokens);
  if (maxTokens !== undefined && maxTokens > 0) p.maxTokens = maxTokens;
  const temperature = pick("temperature") ?? num(ls?.ls_temperature);
  if (temperature !== undefined) p.temperature = temperature;
  const topP = pick("topP", "top_p");
  if (topP !== undefined) p.topP = topP;
  const topK = pick("topK", "top_k");
  if (topK !== undefined) p.topK = topK;
  const frequencyPenalty = pick("frequencyPenalty", "frequency_penalty");
  if (frequencyPenalty !== undefined) p.frequencyPenalty = frequencyPenalty;
  const presencePenalty = pick("presencePenalty", "presence_penalty");
  if (presencePenalty !== undefined) p.presencePenalty = presencePenalty;
  const seed = pick("seed");
  if (seed !== undefined && Number.isInteger(seed)) p.seed = seed;
  const n = pick("n", "candidateCount");
  if (n !== undefined && Number.isInteger(n) && n !== 1) p.choiceCount = n;
  const stop = o.stop ?? o.stopSequences ?? ls?.ls_stop ?? m.stop ?? m.stopSequences;
  if (Array.isArray(stop) && stop.length > 0 && stop.every((x) => typeof x === "string")) p.stopSequences = stop;
  else if (typeof stop === "string" && stop.length > 0) p.stopSequences = [stop];
  // Structured output (withStructuredOutput, a response_format): the request includes an output format.
  const format = o.response_format ?? o.ls_structured_output_format ?? o.responseFormat;
  if (format !== undefined && format !== null) {
    const type = (format as { type?: unknown }).type;
    p.outputType = type === "text" ? "text" : "json";
  }
  return Object.keys(p).length > 0 ? p : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

interface MessageLike {
  id?: unknown;
  usage_metadata?: unknown;
  response_metadata?: Record<string, unknown>;
  content?: unknown;
  tool_calls?: unknown;
  getType?(): string;
  _getType?(): string;
}

interface GenerationLike {
  message?: MessageLike;
  generationInfo?: Record<string, unknown>;
}

interface ResultLike {
  generations?: GenerationLike[][];
  llmOutput?: Record<string, unknown>;
}

/**
 * Fills the response facts of a chat step from an `LLMResult`: usage, response model and id, finish
 * reasons. Returns each generation's finish reason (undefined where none), in order.
 */
export function responseFacts(chat: ChatInfo, result: unknown): (string | undefined)[] {
  const r = result as ResultLike | undefined;
  const generations = Array.isArray(r?.generations) ? r.generations : [];
  let usage: TokenUsage | undefined;
  const reasons: string[] = [];
  const perGeneration: (string | undefined)[] = [];
  for (const list of generations) {
    const g = Array.isArray(list) ? list[0] : undefined;
    if (!g) continue;
    const message = g.message;
    const u = usageOf(message?.usage_metadata);
    if (u) usage = usage ? sum(usage, u) : u;
    const reasoning = reasoningOf(message?.usage_metadata);
    if (reasoning !== undefined) chat.reasoningTokens = (chat.reasoningTokens ?? 0) + reasoning;
    const meta = message?.response_metadata;
    const reason =
      str(g.generationInfo?.finish_reason) ??
      str(meta?.finish_reason) ??
      str(meta?.stop_reason) ??
      str(meta?.finishReason);
    perGeneration.push(reason);
    if (reason) reasons.push(reason);
    const responseModel = str(meta?.model_name) ?? str(meta?.model);
    if (responseModel && chat.responseModel === undefined) chat.responseModel = responseModel;
    const responseId = str(meta?.id) ?? providerId(message?.id);
    if (responseId && chat.responseId === undefined) chat.responseId = responseId;
  }
  usage ??= llmOutputUsage(r?.llmOutput);
  if (usage) chat.usage = usage;
  if (reasons.length > 0) chat.finishReasons = reasons;
  return perGeneration;
}

/** A message id that the provider gave (not one LangChain made up for its run: `run-…`, `lc_run--…`). */
function providerId(id: unknown): string | undefined {
  const s = str(id);
  return s === undefined || /^(?:run-|lc_run-)/.test(s) ? undefined : s;
}

/** Reads `usage_metadata` defensively: malformed figures (negative, fractional, huge, not numbers) are ignored, never thrown on. */
export function usageOf(raw: unknown): TokenUsage | undefined {
  if (typeof raw !== "object" || raw === null) return undefined;
  const u = raw as Record<string, unknown>;
  const input = count(u.input_tokens);
  const output = count(u.output_tokens);
  if (input === undefined && output === undefined) return undefined;
  const usage: TokenUsage = { input: input ?? 0, output: output ?? 0 };
  const details = u.input_token_details;
  if (typeof details === "object" && details !== null) {
    const d = details as Record<string, unknown>;
    const cacheRead = count(d.cache_read);
    const cacheWrite = count(d.cache_creation);
    if (cacheRead !== undefined) usage.cacheRead = cacheRead;
    if (cacheWrite !== undefined) usage.cacheWrite = cacheWrite;
  }
  return usage;
}

/** Reasoning tokens of `usage_metadata.output_token_details`, when reported. */
export function reasoningOf(raw: unknown): number | undefined {
  const d = (raw as { output_token_details?: unknown } | null | undefined)?.output_token_details;
  return typeof d === "object" && d !== null ? count((d as Record<string, unknown>).reasoning) : undefined;
}

function llmOutputUsage(llmOutput: Record<string, unknown> | undefined): TokenUsage | undefined {
  const t = llmOutput?.tokenUsage ?? llmOutput?.estimatedTokenUsage;
  if (typeof t !== "object" || t === null) return undefined;
  const input = count((t as Record<string, unknown>).promptTokens);
  const output = count((t as Record<string, unknown>).completionTokens);
  if (input === undefined && output === undefined) return undefined;
  return { input: input ?? 0, output: output ?? 0 };
}

function sum(a: TokenUsage, b: TokenUsage): TokenUsage {
  const s: TokenUsage = { input: a.input + b.input, output: a.output + b.output };
  if (a.cacheRead !== undefined || b.cacheRead !== undefined) s.cacheRead = (a.cacheRead ?? 0) + (b.cacheRead ?? 0);
  if (a.cacheWrite !== undefined || b.cacheWrite !== undefined)
    s.cacheWrite = (a.cacheWrite ?? 0) + (b.cacheWrite ?? 0);
  return s;
}

/** Usage summed over a stream's chunks: providers put it on one chunk (usually the last) or spread it. */
export function sumUsage(chat: ChatInfo, list: readonly unknown[]): TokenUsage | undefined {
  let usage: TokenUsage | undefined;
  for (const chunk of list) {
    const raw = (chunk as { usage_metadata?: unknown } | null)?.usage_metadata;
    const u = usageOf(raw);
    if (u) usage = usage ? { ...u, input: usage.input + u.input, output: usage.output + u.output } : u;
    const reasoning = reasoningOf(raw);
    if (reasoning !== undefined) chat.reasoningTokens = (chat.reasoningTokens ?? 0) + reasoning;
  }
  return usage;
}

/** A token count: a non-negative safe integer (-0 read as 0); anything else is malformed. */
function count(v: unknown): number | undefined {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? v + 0 : undefined;
}

/** A non-empty string from a model or its provider's response, cut to `MAX_NAME_LENGTH`. */
function str(v: unknown): string | undefined {
  return typeof v === "string" && v.length > 0 ? boundedName(v) : undefined;
}

/**
 * Estimates usage from text length (about 4 characters a token) when a provider reports none, so
 * that the call's cost is estimated and marked so, never silently 0.
 */
export function estimateUsage(input: unknown, output: unknown): TokenUsage {
  return { input: Math.ceil(textLength(input) / 4), output: Math.ceil(textLength(output) / 4) };
}

/** What a conversation measured to so far: its messages, in order, what was read of each, and their summed text length. */
export interface Measured {
  messages: unknown[];
  stamps: Array<unknown[] | undefined>;
  length: number;
}

/**
 * Input tokens of a request for the predictive guard (characters / 4). A LangGraph agent sends its
 * whole, growing conversation on every call, the same message objects in the same order: with
 * `memo` (the task's last measurement) a call measures only the messages after the prefix it
 * shares, by identity, with the last call (measured: walking every message of every call was the
 * largest item of the limits' cost; a WeakMap per message cost half as much again). A message
 * changed in place since (its content, tool calls, name: `messageStamp`) ends the shared prefix:
 * it and what follows are measured again (test: "the cost guard's input estimate").
 */
export function estimateInputTokens(messages: unknown, memo?: { last?: Measured }): number {
  // `generate()` takes a batch (an array of message lists): the first list is the call's prompt.
  let list: unknown = messages;
  if (Array.isArray(list) && list.length === 1 && Array.isArray(list[0])) list = list[0];
  if (!Array.isArray(list) || memo === undefined) return Math.ceil(textLength(messages) / 4);
  const last = memo.last;
  let shared = 0;
  let length = 0;
  if (last !== undefined && last.messages.length <= list.length) {
    while (
      shared < last.messages.length &&
      last.messages[shared] === list[shared] &&
      matchesStamp(list[shared], last.stamps[shared])
    )
      shared++;
    if (shared === last.messages.length) length = last.length;
    else shared = 0;
  }
  // Stamps only for what was measured now; the shared prefix keeps its own.
  const stamps = shared > 0 && last !== undefined ? last.stamps.slice(0, shared) : [];
  for (let i = shared; i < list.length; i++) {
    length += textLength(list[i], 2);
    stamps.push(messageStamp(list[i]));
  }
  memo.last = { messages: list.slice(), stamps, length };
  return Math.ceil(length / 4);
}

function textLength(value: unknown, depth = 0): number {
  if (typeof value === "string") return value.length;
  if (depth > 6 || typeof value !== "object" || value === null) return 0;
  if (Array.isArray(value)) {
    let n = 0;
    for (const v of value) n += textLength(v, depth + 1);
    return n;
  }
  const o = value as {
    content?: unknown;
    text?: unknown;
    tool_calls?: unknown;
    message?: unknown;
    generations?: unknown;
  };
  // An LLMResult: its generations; a generation: its message (its `text` repeats the content).
  if (o.generations !== undefined) return textLength(o.generations, depth + 1);
  if (o.message !== undefined) return textLength(o.message, depth + 1);
  let n = 0;
  if (o.content !== undefined) n += textLength(o.content, depth + 1);
  else if (typeof o.text === "string") n += o.text.length;
  if (Array.isArray(o.tool_calls)) {
    for (const c of o.tool_calls) n += JSON.stringify((c as { args?: unknown })?.args ?? "").length;
  }
  return n;
}
