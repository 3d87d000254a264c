import type { CallbackManagerForLLMRun } from "@langchain/core/callbacks/manager";
import { BaseChatModel, type BaseChatModelParams } from "@langchain/core/language_models/chat_models";
import { AIMessage, AIMessageChunk, type BaseMessage, type MessageContent } from "@langchain/core/messages";
import { ChatGenerationChunk, type ChatResult } from "@langchain/core/outputs";

/** One scripted model reply. */
export interface ScriptedTurn {
  /** The reply's content: text, or an array of content blocks (streamed as one chunk). */
  content?: MessageContent;
  toolCalls?: Array<{ name: string; args: Record<string, unknown>; id?: string }>;
  /** Token usage to report; `null` reports none (as some providers do when streaming). Default 10 in / 5 out. */
  usage?: { input: number; output: number; cacheRead?: number; cacheWrite?: number } | null;
  /** A raw `usage_metadata` put on the reply as it is, instead of `usage`: for tests of malformed reports. */
  usageMetadata?: unknown;
  finishReason?: string;
  /** Throw this instead of replying. */
  error?: Error;
  /** Wait this many milliseconds before replying. */
  delayMs?: number;
}

/** A fixed list of turns, or a function of the conversation so far and the call's index. */
export type Script = ScriptedTurn[] | ((messages: BaseMessage[], call: number) => ScriptedTurn);

export interface ScriptedChatModelOptions extends BaseChatModelParams {
  script: Script;
  /** Reported model name. Default `"gpt-4o-mini"`. */
  model?: string;
  /** Reported provider (LangSmith id, e.g. `openai`, `anthropic`). Default `"openai"`. */
  provider?: string;
}

/**
 * A chat model that replies from a script, with tool calls and `usage_metadata` like a real
 * provider: for tests, benchmarks and the demo, where there is no network and no API key.
 * Supports `invoke`, `stream` (usage on the last chunk) and `bindTools`.
 */
export class ScriptedChatModel extends BaseChatModel {
  readonly script: Script;
  readonly model: string;
  readonly provider: string;
  /** Number of calls made so far. */
  calls = 0;
  private toolCallCounter = 0;

  constructor(options: ScriptedChatModelOptions) {
    super(options);
    this.script = options.script;
    this.model = options.model ?? "gpt-4o-mini";
    this.provider = options.provider ?? "openai";
  }

  _llmType(): string {
    return "scripted";
  }

  override getLsParams(options: this["ParsedCallOptions"]) {
    return { ...super.getLsParams(options), ls_provider: this.provider, ls_model_name: this.model };
  }

  // Tools are part of the script, so binding them changes nothing.
  override bindTools(): this {
    return this;
  }

  private nextTurn(messages: BaseMessage[]): ScriptedTurn {
    const index = this.calls++;
    if (typeof this.script === "function") return this.script(messages, index);
    const turn = this.script[Math.min(index, this.script.length - 1)];
    if (!turn) throw new Error("ScriptedChatModel: empty script");
    return turn;
  }

  private toMessageFields(turn: ScriptedTurn) {
    const toolCalls = (turn.toolCalls ?? []).map((c) => ({
      name: c.name,
      args: c.args,
      id: c.id ?? `call_${++this.toolCallCounter}`,
      type: "tool_call" as const,
    }));
    const usage = turn.usage === undefined ? { input: 10, output: 5 } : turn.usage;
    const usage_metadata =
      "usageMetadata" in turn
        ? (turn.usageMetadata as AIMessage["usage_metadata"])
        : usage
          ? {
              input_tokens: usage.input,
              output_tokens: usage.output,
              total_tokens: usage.input + usage.output,
              ...(usage.cacheRead !== undefined || usage.cacheWrite !== undefined
                ? {
                    input_token_details: {
                      ...(usage.cacheRead !== undefined ? { cache_read: usage.cacheRead } : {}),
                      ...(usage.cacheWrite !== undefined ? { cache_creation: usage.cacheWrite } : {}),
                    },
                  }
                : {}),
            }
          : undefined;
    const finish_reason = turn.finishReason ?? (toolCalls.length > 0 ? "tool_calls" : "stop");
    return { toolCalls, usage_metadata, finish_reason };
  }

  async _generate(messages: BaseMessage[]): Promise<ChatResult> {
    const turn = this.nextTurn(messages);
    if (turn.delayMs) await new Promise((r) => setTimeout(r, turn.delayMs));
    if (turn.error) throw turn.error;
    const { toolCalls, usage_metadata, finish_reason } = this.toMessageFields(turn);
    const message = new AIMessage({
      content: turn.content ?? "",
      tool_calls: toolCalls,
      ...(usage_metadata ? { usage_metadata } : {}),
      response_metadata: { model_name: this.model, finish_reason },
    });
    const text = textOf(turn.content ?? "");
    return { generations: [{ text, message, generationInfo: { finish_reason } }] };
  }

  override async *_streamResponseChunks(
    messages: BaseMessage[],
    _options: this["ParsedCallOptions"],
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<ChatGenerationChunk> {
    const turn = this.nextTurn(messages);
    if (turn.delayMs) await new Promise((r) => setTimeout(r, turn.delayMs));
    if (turn.error) throw turn.error;
    const { toolCalls, usage_metadata, finish_reason } = this.toMessageFields(turn);
    const content = turn.content ?? "";
    // Content blocks come as one chunk; text word by word.
    if (typeof content !== "string") {
      const text = textOf(content);
      yield new ChatGenerationChunk({ text, message: new AIMessageChunk({ content }) });
      if (text) await runManager?.handleLLMNewToken(text);
    }
    const words = typeof content === "string" ? content.split(/(?<= )/) : [];
    for (const word of words) {
      if (!word) continue;
      const chunk = new ChatGenerationChunk({ text: word, message: new AIMessageChunk({ content: word }) });
      yield chunk;
      await runManager?.handleLLMNewToken(word);
    }
    yield new ChatGenerationChunk({
      text: "",
      message: new AIMessageChunk({
        content: "",
        tool_call_chunks: toolCalls.map((c, index) => ({
          name: c.name,
          args: JSON.stringify(c.args),
          id: c.id,
          index,
          type: "tool_call_chunk" as const,
        })),
        ...(usage_metadata ? { usage_metadata } : {}),
        response_metadata: { model_name: this.model, finish_reason },
      }),
      generationInfo: { finish_reason },
    });
  }
}

/** The text of a reply's content: the string, or its text blocks joined. */
function textOf(content: MessageContent): string {
  if (typeof content === "string") return content;
  let text = "";
  for (const block of content as unknown[]) {
    const b = block as { type?: unknown; text?: unknown } | null;
    if (b?.type === "text" && typeof b.text === "string") text += b.text;
  }
  return text;
}
