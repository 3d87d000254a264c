/*
 * LangChain messages in the shapes the GenAI conventions' JSON schemas require for
 * `gen_ai.input.messages`, `gen_ai.output.messages`, `gen_ai.system_instructions` and
 * `gen_ai.tool.definitions` (semantic-conventions-genai, model/gen-ai/gen-ai-*.json; the commits are
 * named in test/fixtures/semconv/SOURCE.md). Only called with content capture on.
 */

/** One part of a message (`text`, `tool_call`, `tool_call_response`, `blob`, `uri`, `file`, `reasoning`, ...). */
export type Part = { type: string } & Record<string, unknown>;

export interface ChatMessage {
  role: string;
  parts: Part[];
  name?: string;
}

export interface OutputMessage extends ChatMessage {
  finish_reason?: string;
}

interface MessageLike {
  content?: unknown;
  name?: unknown;
  role?: unknown;
  tool_calls?: unknown;
  invalid_tool_calls?: unknown;
  tool_call_id?: unknown;
  status?: unknown;
  lc_kwargs?: unknown;
  getType?(): string;
  _getType?(): string;
}

/** LangChain message types to the conventions' roles (a Map: the type comes from the message). */
const ROLES: ReadonlyMap<string, string> = new Map([
  ["human", "user"],
  ["user", "user"],
  ["ai", "assistant"],
  ["assistant", "assistant"],
  ["system", "system"],
  ["developer", "system"],
  ["tool", "tool"],
  ["function", "tool"],
]);

/** Provider finish reasons to the conventions' `FinishReason` values; others are kept as they are. */
const FINISH_REASONS: ReadonlyMap<string, string> = new Map([
  ["stop", "stop"],
  ["end_turn", "stop"],
  ["stop_sequence", "stop"],
  ["STOP", "stop"],
  ["FINISH_REASON_STOP", "stop"],
  ["length", "length"],
  ["max_tokens", "length"],
  ["MAX_TOKENS", "length"],
  ["model_length", "length"],
  ["content_filter", "content_filter"],
  ["SAFETY", "content_filter"],
  ["RECITATION", "content_filter"],
  ["refusal", "content_filter"],
  ["tool_calls", "tool_call"],
  ["tool_call", "tool_call"],
  ["tool_use", "tool_call"],
  ["function_call", "tool_call"],
  ["error", "error"],
]);

export function finishReason(reason: string): string {
  return FINISH_REASONS.get(reason) ?? reason;
}

/**
 * The request's messages split as the conventions want them: leading system messages (the
 * system prompt LangChain agents put first: `createAgent({ systemPrompt })`, `createReactAgent({ prompt })`)
 * are `gen_ai.system_instructions`; the rest, in order, `gen_ai.input.messages`.
 */
export function inputMessages(messages: unknown): { system: Part[] | undefined; input: ChatMessage[] } {
  const { system, input } = requestMessages(messages);
  return { system: systemParts(system), input: input.map(chatMessage) };
}

/**
 * A request's messages as given: the system messages at its head (`gen_ai.system_instructions`)
 * and the rest (`gen_ai.input.messages`), each still the caller's object.
 */
export function requestMessages(messages: unknown): { system: unknown[]; input: unknown[] } {
  // `generate()` takes a batch (an array of message lists): the first list is the call's prompt.
  let list: unknown[] = Array.isArray(messages) ? messages : [];
  if (list.length > 0 && Array.isArray(list[0])) list = list[0] as unknown[];
  let i = 0;
  while (i < list.length && roleOf(list[i]) === "system") i++;
  return { system: list.slice(0, i), input: list.slice(i) };
}

/** The parts of a request's head system messages, or undefined when it has none. */
export function systemParts(system: readonly unknown[]): Part[] | undefined {
  if (system.length === 0) return undefined;
  const parts: Part[] = [];
  for (const m of system) parts.push(...partsOf(m as MessageLike));
  return parts;
}

/** One output message per generation (choice), with its finish reason when the provider gave one. */
export function outputMessages(messages: unknown[], reasons: readonly (string | undefined)[]): OutputMessage[] {
  return messages.map((m, i) => {
    const out: OutputMessage = { ...chatMessage(m), role: "assistant" };
    const reason = reasons[i];
    if (reason !== undefined) out.finish_reason = finishReason(reason);
    return out;
  });
}

/**
 * What `chatMessage` and the cost guard's estimate read of a message, by identity (and a content
 * array's length): a message changed in place since a cached result was made from it no longer
 * matches, and is converted, redacted and measured again.
 */
export function messageStamp(m: unknown): unknown[] | undefined {
  if (typeof m !== "object" || m === null) return undefined;
  const msg = m as MessageLike & { invalid_tool_calls?: unknown; text?: unknown };
  const content = msg.content;
  return [
    content,
    Array.isArray(content) ? content.length : -1,
    msg.tool_calls,
    Array.isArray(msg.tool_calls) ? msg.tool_calls.length : -1,
    msg.invalid_tool_calls,
    msg.name,
    msg.tool_call_id,
  ];
}

/** True when `m` still reads as `stamp` says (no new stamp made: this runs for every message of every call). */
export function matchesStamp(m: unknown, stamp: readonly unknown[] | undefined): boolean {
  if (typeof m !== "object" || m === null || stamp === undefined) return stamp === undefined;
  const msg = m as MessageLike & { invalid_tool_calls?: unknown };
  const content = msg.content;
  const calls = msg.tool_calls;
  return (
    stamp[0] === content &&
    stamp[1] === (Array.isArray(content) ? content.length : -1) &&
    stamp[2] === calls &&
    stamp[3] === (Array.isArray(calls) ? calls.length : -1) &&
    stamp[4] === msg.invalid_tool_calls &&
    stamp[5] === msg.name &&
    stamp[6] === msg.tool_call_id
  );
}

/** What a cached conversion of a message depends on (see `Stamper` in the Warden). */
export const MESSAGE_STAMP = { of: messageStamp, matches: matchesStamp };

export function chatMessage(m: unknown): ChatMessage {
  if (typeof m === "string") return { role: "user", parts: [{ type: "text", content: m }] };
  if (typeof m !== "object" || m === null) return { role: "user", parts: [] };
  const msg = m as MessageLike;
  const role = roleOf(msg) ?? "user";
  const out: ChatMessage = { role, parts: [] };
  if (typeof msg.name === "string" && msg.name.length > 0) out.name = msg.name;
  if (role === "tool") {
    const id = typeof msg.tool_call_id === "string" ? msg.tool_call_id : null;
    out.parts.push({ type: "tool_call_response", id, response: responseOf(msg.content) });
    return out;
  }
  const calls = Array.isArray(msg.tool_calls) ? (msg.tool_calls as unknown[]) : [];
  const callIds = new Set<string>();
  for (const c of calls) {
    const call = c as { id?: unknown; name?: unknown; args?: unknown };
    if (typeof call.id === "string") callIds.add(call.id);
  }
  out.parts.push(...partsOf(msg, callIds));
  for (const c of calls) out.parts.push(toolCallPart(c));
  if (Array.isArray(msg.invalid_tool_calls)) for (const c of msg.invalid_tool_calls) out.parts.push(toolCallPart(c));
  return out;
}

/** Tools bound to the call (`bindTools`, the agents' tool lists) as `gen_ai.tool.definitions`: type and name only, as the conventions recommend by default. */
export function toolDefinitions(tools: unknown): Part[] | undefined {
  if (!Array.isArray(tools) || tools.length === 0) return undefined;
  const out: Part[] = [];
  for (const t of tools) {
    if (typeof t !== "object" || t === null) continue;
    const tool = t as { type?: unknown; name?: unknown; function?: { name?: unknown } };
    const name =
      typeof tool.function?.name === "string"
        ? tool.function.name
        : typeof tool.name === "string"
          ? tool.name
          : undefined;
    if (name === undefined) continue;
    const type = typeof tool.type === "string" && tool.type !== "function" && !tool.function ? tool.type : "function";
    out.push({ type, name });
  }
  return out.length > 0 ? out : undefined;
}

function roleOf(m: unknown): string | undefined {
  if (typeof m !== "object" || m === null) return undefined;
  const msg = m as MessageLike;
  let type: string | undefined;
  try {
    type = msg.getType?.() ?? msg._getType?.();
  } catch {
    type = undefined;
  }
  // A generic ChatMessage carries its own role; a plain `{ role, content }` object too.
  if ((type === undefined || type === "generic") && typeof msg.role === "string") type = msg.role;
  if (type === undefined) return undefined;
  return ROLES.get(type) ?? type;
}

function toolCallPart(c: unknown): Part {
  const call = (typeof c === "object" && c !== null ? c : {}) as { id?: unknown; name?: unknown; args?: unknown };
  return {
    type: "tool_call",
    id: typeof call.id === "string" ? call.id : null,
    name: typeof call.name === "string" ? call.name : "",
    arguments: call.args ?? null,
  };
}

/** A tool result as the model sees it: its text, or its content blocks' parts. */
function responseOf(content: unknown): unknown {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    const texts = content.map((b) => (typeof b === "string" ? b : textOf(b)));
    if (texts.every((t) => t !== undefined)) return texts.join("");
    return content.map((b) => blockPart(b)).filter((p): p is Part => p !== undefined);
  }
  return content ?? null;
}

function textOf(block: unknown): string | undefined {
  const b = block as { type?: unknown; text?: unknown } | null;
  return b?.type === "text" && typeof b.text === "string" ? b.text : undefined;
}

function partsOf(msg: MessageLike, toolCallIds: ReadonlySet<string> = new Set()): Part[] {
  const content = msg.content;
  if (typeof content === "string") return content.length > 0 ? [{ type: "text", content }] : [];
  if (!Array.isArray(content)) return [];
  const parts: Part[] = [];
  for (const block of content) {
    const b = block as { type?: unknown; id?: unknown } | null;
    // Anthropic's `tool_use` blocks and LangChain v1 `tool_call` blocks repeat `message.tool_calls`.
    if ((b?.type === "tool_use" || b?.type === "tool_call") && typeof b.id === "string" && toolCallIds.has(b.id))
      continue;
    const part = blockPart(block);
    if (part) parts.push(part);
  }
  return parts;
}

/**
 * One LangChain content block as a part: text, reasoning (`reasoning`, Anthropic `thinking`), tool
 * calls (`tool_use`, `tool_call`), server tool calls and their results, and data in every form
 * LangChain knows (`image_url`, standard `image`/`audio`/`video`/`file` blocks with a url, base64
 * data or a file id, OpenAI `input_audio`). Anything else is kept as a generic part of its own type.
 */
function blockPart(block: unknown): Part | undefined {
  if (typeof block === "string") return { type: "text", content: block };
  if (typeof block !== "object" || block === null) return undefined;
  const b = block as Record<string, unknown>;
  const type = typeof b.type === "string" ? b.type : undefined;
  switch (type) {
    case "text":
    case "input_text":
    case "output_text":
      return { type: "text", content: str(b.text) ?? "" };
    case "reasoning":
      // OpenAI's reasoning items carry their text in `summary` when `reasoning` is empty.
      return { type: "reasoning", content: str(b.reasoning) || summaryText(b.summary) || "" };
    case "thinking":
      return { type: "reasoning", content: str(b.thinking) ?? "" };
    case "redacted_thinking":
      return { type: "reasoning", content: "", redacted: true };
    case "tool_use":
      return { type: "tool_call", id: str(b.id) ?? null, name: str(b.name) ?? "", arguments: b.input ?? null };
    case "tool_call":
      return { type: "tool_call", id: str(b.id) ?? null, name: str(b.name) ?? "", arguments: b.args ?? null };
    case "server_tool_use":
    case "server_tool_call":
      return {
        type: "server_tool_call",
        id: str(b.id) ?? null,
        name: str(b.name) ?? "",
        server_tool_call: { type: str(b.name) ?? "server_tool", arguments: b.input ?? b.args ?? null },
      };
    case "server_tool_call_result":
    case "web_search_tool_result":
    case "code_execution_tool_result":
      return {
        type: "server_tool_call_response",
        id: str(b.tool_call_id) ?? str(b.tool_use_id) ?? null,
        server_tool_call_response: {
          type: type === "server_tool_call_result" ? "result" : type,
          output: b.output ?? b.content ?? null,
        },
      };
    case "image_url": {
      const url = typeof b.image_url === "string" ? b.image_url : str((b.image_url as { url?: unknown } | null)?.url);
      return url === undefined ? generic(b, "image_url") : urlPart(url, "image", undefined);
    }
    case "input_audio": {
      const a = (b.input_audio ?? {}) as { data?: unknown; format?: unknown };
      const format = str(a.format);
      return {
        type: "blob",
        modality: "audio",
        mime_type: format ? `audio/${format}` : null,
        content: str(a.data) ?? "",
      };
    }
    case "image":
    case "audio":
    case "video":
    case "file":
    case "document": {
      const modality = type === "file" || type === "document" ? "document" : type;
      const mime = str(b.mime_type) ?? str(b.mimeType) ?? null;
      const sourceType = str(b.source_type);
      const source = b.source as { type?: unknown; data?: unknown; media_type?: unknown; url?: unknown } | undefined;
      // Anthropic blocks: `source: { type: "base64" | "url", ... }`.
      if (source && typeof source === "object") {
        const sMime = str(source.media_type) ?? mime;
        if (source.type === "base64")
          return { type: "blob", modality, mime_type: sMime, content: str(source.data) ?? "" };
        if (source.type === "url" && typeof source.url === "string") return urlPart(source.url, modality, sMime);
      }
      const data = str(b.data) ?? str(b.base64);
      if (data !== undefined && (sourceType === undefined || sourceType === "base64"))
        return { type: "blob", modality, mime_type: mime, content: data };
      const id = str(b.id) ?? str(b.fileId) ?? str(b.file_id);
      if (sourceType === "id" || (data === undefined && b.url === undefined && id !== undefined))
        return { type: "file", modality, mime_type: mime, file_id: id ?? "" };
      const url = str(b.url);
      if (url !== undefined) return urlPart(url, modality, mime);
      return generic(b, type);
    }
    default:
      return generic(b, type ?? "unknown");
  }
}

/** A URL: a `data:` URL is inline bytes (a blob part), anything else a `uri` part. */
function urlPart(url: string, modality: string, mime: string | null | undefined): Part {
  const data = /^data:([^;,]*)(;base64)?,(.*)$/s.exec(url);
  if (data) return { type: "blob", modality, mime_type: data[1] || mime || null, content: data[3] ?? "" };
  return { type: "uri", modality, mime_type: mime ?? null, uri: url };
}

function generic(b: Record<string, unknown>, type: string): Part {
  return { ...b, type };
}

function summaryText(summary: unknown): string | undefined {
  if (!Array.isArray(summary)) return undefined;
  const texts = summary.map((s) => str((s as { text?: unknown } | null)?.text)).filter((t) => t !== undefined);
  return texts.length > 0 ? texts.join("\n") : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}
