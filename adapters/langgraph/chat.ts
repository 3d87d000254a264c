import type { ChatInfo, TokenUsage } from "../../src/index.js";

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

interface ModelLike {
  getLsParams?(options: unknown): { ls_provider?: unknown; ls_model_name?: unknown };
  _llmType?(): string;
  model?: unknown;
  modelName?: unknown;
}

/** Provider and requested model of a chat model call, from the model's own LangSmith parameters. */
export function requestFacts(model: ModelLike, options: unknown): { provider: string; requestModel: string } {
  let params: { ls_provider?: unknown; ls_model_name?: unknown } | undefined;
  try {
    params = model.getLsParams?.(options ?? {});
  } catch {
    params = undefined;
  }
  const rawProvider = typeof params?.ls_provider === "string" ? params.ls_provider.toLowerCase() : undefined;
  let provider = rawProvider ? (PROVIDERS[rawProvider] ?? rawProvider) : undefined;
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
    "unknown";
  return { provider, requestModel };
}

interface MessageLike {
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

/** Fills the response facts of a chat step from an `LLMResult`: usage, response model, finish reasons. */
export function responseFacts(chat: ChatInfo, result: unknown): void {
  const r = result as ResultLike | undefined;
  const generations = Array.isArray(r?.generations) ? r.generations : [];
  let usage: TokenUsage | undefined;
  const reasons: string[] = [];
  for (const list of generations) {
    const g = Array.isArray(list) ? list[0] : undefined;
    if (!g) continue;
    const message = g.message;
    const u = usageOf(message?.usage_metadata);
    if (u) usage = usage ? sum(usage, u) : u;
    const meta = message?.response_metadata;
    const reason =
      str(g.generationInfo?.finish_reason) ??
      str(meta?.finish_reason) ??
      str(meta?.stop_reason) ??
      str(meta?.finishReason);
    if (reason) reasons.push(reason);
    const responseModel = str(meta?.model_name) ?? str(meta?.model);
    if (responseModel && chat.responseModel === undefined) chat.responseModel = responseModel;
  }
  usage ??= llmOutputUsage(r?.llmOutput);
  if (usage) chat.usage = usage;
  if (reasons.length > 0) chat.finishReasons = reasons;
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

/** A token count: a non-negative safe integer (-0 read as 0); anything else is malformed. */
function count(v: unknown): number | undefined {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? v + 0 : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v.length > 0 ? v : undefined;
}

/** Messages as `{ role, content, tool_calls? }` for opt-in capture. */
export function messagesForCapture(messages: unknown): unknown {
  if (!Array.isArray(messages)) return messages;
  return messages.map((m) => (Array.isArray(m) ? m.map(messageForCapture) : messageForCapture(m)));
}

export function messageForCapture(m: unknown): unknown {
  if (typeof m !== "object" || m === null) return m;
  const msg = m as MessageLike;
  let role: string | undefined;
  try {
    role = msg.getType?.() ?? msg._getType?.();
  } catch {
    role = undefined;
  }
  const out: Record<string, unknown> = { role: role ?? "unknown", content: msg.content };
  if (Array.isArray(msg.tool_calls) && msg.tool_calls.length > 0) out.tool_calls = msg.tool_calls;
  return out;
}

/**
 * Estimates usage from text length (about 4 characters a token) when a provider reports none, so
 * that the call's cost is estimated and marked so, never silently 0.
 */
export function estimateUsage(input: unknown, output: unknown): TokenUsage {
  return { input: Math.ceil(textLength(input) / 4), output: Math.ceil(textLength(output) / 4) };
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
