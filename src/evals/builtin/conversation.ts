/**
 * What the built-in evaluators read from an output, without knowing a framework: a LangGraph
 * `{ messages }` state (LangChain message objects, their serialised form, or `{ role, content }`
 * dictionaries), a plain string (the answer alone), or a `Conversation` given directly.
 */

/** The parts of a task the built-in evaluators look at. */
export interface Conversation {
  /** The answer being checked: the last assistant message's text. */
  answer: string;
  /** The user's messages, oldest first. */
  inputs: string[];
  /** The task's tool results (tool messages), oldest first. */
  toolResults: string[];
  /** Retrieved context: the state's `context`, `documents`, `docs`, `retrieved` or `sources`. */
  context: string[];
  /** The answer's finish reason when the model gave one (`stop`, `length`, `max_tokens`, ...). */
  finishReason?: string;
}

/** Reads a `Conversation` from an evaluator's output. */
export type ConversationSelect = (output: unknown) => Conversation;

type Role = "user" | "assistant" | "tool" | "system";

/** The text of a message's content: a string, or the text parts of a content array. */
export function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => {
        if (typeof part === "string") return part;
        const p = part as { type?: unknown; text?: unknown } | null;
        return typeof p?.text === "string" ? p.text : "";
      })
      .join("");
  }
  if (content === undefined || content === null) return "";
  try {
    return JSON.stringify(content);
  } catch {
    return String(content);
  }
}

interface MessageLike {
  type?: unknown;
  role?: unknown;
  content?: unknown;
  id?: unknown;
  lc?: unknown;
  kwargs?: Record<string, unknown>;
  tool_call_id?: unknown;
  response_metadata?: Record<string, unknown>;
  getType?: () => unknown;
}

const ROLE_OF: Record<string, Role> = {
  human: "user",
  user: "user",
  HumanMessage: "user",
  HumanMessageChunk: "user",
  ai: "assistant",
  assistant: "assistant",
  AIMessage: "assistant",
  AIMessageChunk: "assistant",
  tool: "tool",
  function: "tool",
  ToolMessage: "tool",
  ToolMessageChunk: "tool",
  system: "system",
  developer: "system",
  SystemMessage: "system",
};

/** A message's role and fields, whichever of the usual shapes it has. */
function unpack(m: unknown): { role: Role | undefined; content: unknown; meta: Record<string, unknown> | undefined } {
  if (typeof m === "string") return { role: "user", content: m, meta: undefined };
  const msg = (m ?? {}) as MessageLike;
  // serialised LangChain message: { lc: 1, type: "constructor", id: [..., "ToolMessage"], kwargs }
  if (msg.lc !== undefined && Array.isArray(msg.id) && msg.kwargs) {
    const cls = String(msg.id[msg.id.length - 1]);
    return {
      role: ROLE_OF[cls],
      content: msg.kwargs.content,
      meta: msg.kwargs.response_metadata as Record<string, unknown> | undefined,
    };
  }
  let kind: unknown = typeof msg.type === "string" ? msg.type : msg.role;
  if (kind === undefined && typeof msg.getType === "function") kind = msg.getType();
  let role = typeof kind === "string" ? ROLE_OF[kind] : undefined;
  if (role === undefined && msg.tool_call_id !== undefined) role = "tool";
  return { role, content: msg.content, meta: msg.response_metadata };
}

/** The finish reason in a message's metadata (OpenAI, Anthropic, Google and Bedrock spellings). */
function finishReasonOf(meta: Record<string, unknown> | undefined): string | undefined {
  if (!meta) return undefined;
  for (const key of ["finish_reason", "stop_reason", "finishReason", "stopReason"]) {
    const v = meta[key];
    if (typeof v === "string") return v;
  }
  return undefined;
}

function texts(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap((v) => texts(v));
  const doc = value as { pageContent?: unknown; content?: unknown; text?: unknown };
  if (typeof doc.pageContent === "string") return [doc.pageContent];
  if (typeof doc.text === "string") return [doc.text];
  if (doc.content !== undefined) return [contentText(doc.content)];
  return [contentText(value)];
}

const CONTEXT_KEYS = ["context", "documents", "docs", "retrieved", "sources"];

/**
 * The conversation in an output: a string is the answer alone; `{ messages }` is read message by
 * message; `{ name, args }` (a tool call) has its arguments, as JSON, as the answer; an object with
 * `answer` (or `response`, `output`) is taken as a `Conversation`, its missing lists empty.
 */
export function readConversation(output: unknown): Conversation {
  if (typeof output === "string") return { answer: output, inputs: [], toolResults: [], context: [] };
  const o = (output ?? {}) as Record<string, unknown>;
  const context = CONTEXT_KEYS.flatMap((k) => texts(o[k]));
  if (!Array.isArray(o.messages)) {
    // a tool call about to run (`{ name, args }`, what a tool guard sees): its arguments are the text checked
    if (typeof o.name === "string" && "args" in o && o.answer === undefined) {
      return { answer: contentText(o.args), inputs: [], toolResults: [], context };
    }
    const answer = o.answer ?? o.response ?? o.output;
    const c: Conversation = {
      answer: typeof answer === "string" ? answer : contentText(answer),
      inputs: texts(o.inputs ?? o.input ?? o.prompt ?? o.question),
      toolResults: texts(o.toolResults),
      context,
    };
    if (typeof o.finishReason === "string") c.finishReason = o.finishReason;
    return c;
  }
  const c: Conversation = { answer: "", inputs: [], toolResults: [], context };
  let lastAssistant: { content: unknown; meta: Record<string, unknown> | undefined } | undefined;
  for (const m of o.messages) {
    const { role, content, meta } = unpack(m);
    if (role === "user") c.inputs.push(contentText(content));
    else if (role === "tool") c.toolResults.push(contentText(content));
    else if (role === "assistant") lastAssistant = { content, meta };
  }
  if (lastAssistant) {
    c.answer = contentText(lastAssistant.content);
    const reason = finishReasonOf(lastAssistant.meta);
    if (reason !== undefined) c.finishReason = reason;
  }
  return c;
}
