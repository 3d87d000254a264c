import { CallbackManager, ensureHandler } from "@langchain/core/callbacks/manager";
import { AIMessageChunk } from "@langchain/core/messages";
import { ChatGenerationChunk } from "@langchain/core/outputs";
import { AsyncLocalStorageProviderSingleton } from "@langchain/core/singletons";

/*
 * A model call whose output a guard checks must not show that output to anyone before the guard
 * has decided. LangChain hands it to the callback handlers while the call runs: each token
 * (`handleLLMNewToken`, and `handleChatModelStreamEvent` for LangGraph's stream protocol) and the
 * end (`handleLLMEnd`) — which is how LangGraph's `streamMode: "messages"`, `streamEvents` and a
 * user's own handlers see a model's answer. So, with output guards only, the call runs with a copy
 * of its callback manager whose LLM runs hold those events back; once the guard has decided, the
 * handlers get what it allows: the events as they were when the answer passed, else one token with
 * the whole allowed answer (when the call streamed) and the end with the guarded generation. The
 * run's start goes through at once (it shows the input, which the input guards checked before).
 * A call that fails delivers its error and none of its tokens: a partial answer was never checked.
 */

type Args = unknown[];

interface RunManagerLike {
  handleLLMNewToken(...args: Args): Promise<void>;
  handleChatModelStreamEvent?(...args: Args): Promise<void>;
  handleLLMEnd(...args: Args): Promise<void>;
  handleLLMError(...args: Args): Promise<void>;
}

interface ManagerLike {
  copy(...args: Args): ManagerLike;
  handleChatModelStart(...args: Args): Promise<RunManagerLike[]>;
}

/** One LLM run of the call (one per prompt): the events it holds and the handlers' own methods. */
interface HeldRun {
  run: RunManagerLike;
  own: {
    token: RunManagerLike["handleLLMNewToken"];
    event: RunManagerLike["handleChatModelStreamEvent"];
    end: RunManagerLike["handleLLMEnd"];
    error: RunManagerLike["handleLLMError"];
  };
  events: Array<[kind: "token" | "event", args: Args]>;
  end?: Args;
  settled: boolean;
}

interface GenerationLike {
  text?: unknown;
  message?: {
    content?: unknown;
    id?: unknown;
    tool_calls?: Array<{ name?: unknown; args?: unknown; id?: unknown }>;
    response_metadata?: Record<string, unknown>;
    usage_metadata?: unknown;
  };
  generationInfo?: Record<string, unknown>;
}

type ResultLike = { generations?: GenerationLike[][] } | undefined;

export interface HeldCallbacks {
  /** The call's options, with the holding callback manager as their callbacks. */
  options: Record<string, unknown>;
  /** Gives the handlers what the guard allows: `guarded` is `raw` or a copy with guarded generations. */
  release(raw: unknown, guarded: unknown): Promise<void>;
  /** The call or its guard failed: each run not yet ended ends with the error, without its tokens. */
  fail(error: unknown): Promise<void>;
}

/**
 * Holds the callback events of a `generate(messages, options, callbacks)` call. The callbacks are
 * the ones `generate` would use: the options', else the ambient config's, else `callbacks`.
 */
export function holdCallbacks(options: unknown, callbacks: unknown): HeldCallbacks {
  const given = Array.isArray(options) ? { stop: options } : ((options ?? {}) as Record<string, unknown>);
  // As `generate` finds them (`ensureConfig`): the options', else the ambient config's, else the argument.
  const ambient = AsyncLocalStorageProviderSingleton.getRunnableConfig() as { callbacks?: unknown } | undefined;
  const source: unknown = given.callbacks ?? ambient?.callbacks ?? callbacks;
  let manager: ManagerLike;
  if (typeof source === "object" && source !== null && !Array.isArray(source) && "copy" in source) {
    manager = (source as ManagerLike).copy();
  } else {
    const m = new CallbackManager();
    if (Array.isArray(source)) m.setHandlers(source.map((h) => ensureHandler(h as never)));
    manager = m as unknown as ManagerLike;
  }
  const runs: HeldRun[] = [];
  // LangChain's `CallbackManager.configure` copies the manager it is given (adding the model's own
  // handlers and tracers): the copy is where the runs start.
  const copy = manager.copy;
  manager.copy = function heldCopy(this: ManagerLike, ...args: Args) {
    const configured = copy.apply(this, args);
    const start = configured.handleChatModelStart;
    configured.handleChatModelStart = async function heldStart(this: ManagerLike, ...startArgs: Args) {
      const started = await start.apply(this, startArgs);
      if (Array.isArray(started)) for (const run of started) runs.push(hold(run));
      return started;
    };
    return configured;
  };
  return {
    options: { ...given, callbacks: manager },
    async release(raw, guarded) {
      const before = (raw as ResultLike)?.generations;
      const after = (guarded as ResultLike)?.generations;
      for (let i = 0; i < runs.length; i++) {
        const r = runs[i] as HeldRun;
        if (r.settled) continue;
        r.settled = true;
        const was = before?.[i];
        const now = after?.[i];
        if (was?.[0] === now?.[0]) {
          for (const [kind, args] of r.events) {
            if (kind === "token") await r.own.token.apply(r.run, args);
            else await r.own.event?.apply(r.run, args);
          }
          if (r.end) await r.own.end.apply(r.run, r.end);
          continue;
        }
        // Changed by the guard: one token with the whole allowed answer, if the call streamed (the
        // protocol's stream events are dropped: without them, LangGraph's handler sends the
        // message from the end, as for a model that does not stream).
        const generation = now?.[0];
        if (generation && r.events.some(([kind]) => kind === "token")) {
          const chunk = chunkOf(generation);
          await r.own.token.apply(r.run, [
            chunk.text,
            { prompt: i, completion: 0 },
            undefined,
            undefined,
            undefined,
            { chunk },
          ]);
        }
        if (r.end) {
          const [output, ...rest] = r.end;
          await r.own.end.apply(r.run, [{ ...(output as object), generations: now ? [now] : [] }, ...rest]);
        }
      }
    },
    async fail(error) {
      for (const r of runs) {
        if (r.settled) continue;
        r.settled = true;
        r.events = [];
        await r.own.error.apply(r.run, [error]);
      }
    },
  };
}

/** Replaces the run's token, stream-event and end methods with ones that hold the events. */
function hold(run: RunManagerLike): HeldRun {
  const r: HeldRun = {
    run,
    own: {
      token: run.handleLLMNewToken,
      event: run.handleChatModelStreamEvent,
      end: run.handleLLMEnd,
      error: run.handleLLMError,
    },
    events: [],
    settled: false,
  };
  // Events after the release (none are expected) are dropped: they were never checked.
  run.handleLLMNewToken = async (...args: Args) => {
    if (!r.settled) r.events.push(["token", args]);
  };
  if (typeof run.handleChatModelStreamEvent === "function") {
    run.handleChatModelStreamEvent = async (...args: Args) => {
      if (!r.settled) r.events.push(["event", args]);
    };
  }
  run.handleLLMEnd = async (...args: Args) => {
    if (!r.settled) r.end = args;
  };
  run.handleLLMError = async (...args: Args) => {
    if (r.settled) return;
    r.settled = true;
    r.events = [];
    await r.own.error.apply(run, args);
  };
  return r;
}

/** A guarded generation as one stream chunk: its whole content, tool calls as tool call chunks. */
function chunkOf(generation: GenerationLike): ChatGenerationChunk {
  const m = generation.message ?? {};
  const calls = Array.isArray(m.tool_calls) ? m.tool_calls : [];
  const fields: Record<string, unknown> = { content: m.content ?? "" };
  if (typeof m.id === "string") fields.id = m.id;
  if (m.response_metadata !== undefined) fields.response_metadata = m.response_metadata;
  if (m.usage_metadata !== undefined) fields.usage_metadata = m.usage_metadata;
  if (calls.length > 0)
    fields.tool_call_chunks = calls.map((c, index) => ({
      name: c.name,
      args: JSON.stringify(c.args ?? {}),
      id: c.id,
      index,
      type: "tool_call_chunk",
    }));
  const message = new AIMessageChunk(fields as never);
  const text = typeof generation.text === "string" ? generation.text : typeof m.content === "string" ? m.content : "";
  return new ChatGenerationChunk({
    text,
    message,
    ...(generation.generationInfo ? { generationInfo: generation.generationInfo } : {}),
  });
}
