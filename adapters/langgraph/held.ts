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
  [method: string]: unknown;
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
export function holdCallbacks(options: unknown, callbacks: unknown, own: unknown): HeldCallbacks | undefined {
  const given = Array.isArray(options) ? { stop: options } : ((options ?? {}) as Record<string, unknown>);
  // As `generate` finds them (`ensureConfig`): the options', else the ambient config's, else the argument.
  const ambient = AsyncLocalStorageProviderSingleton.getRunnableConfig() as { callbacks?: unknown } | undefined;
  const source = given.callbacks ?? ambient?.callbacks ?? callbacks;
  if (!reachesHandlers(source, own)) return undefined;
  const manager = managerOf(source);
  const runs: HeldRun[] = [];
  reportStarts(manager, ["handleChatModelStart"], (_, started) => {
    if (Array.isArray(started)) for (const run of started) runs.push(hold(run as RunManagerLike));
  });
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

/**
 * Whether a call with `source` callbacks (and the model's or tool's own, `own`) reaches any
 * handler: its own and inherited ones, and those LangChain adds as it configures the call (verbose
 * logging, LangSmith tracing, configure hooks). With none, nothing can see the call's events and
 * nothing is held: a holding manager made there would make LangChain set up the callbacks of a
 * call that, bare, has none (run ids, start events, a child manager per run; measured, with both
 * kinds of guards, about a fifth of a scripted agent's run).
 */
function reachesHandlers(source: unknown, own: unknown): boolean {
  if (hasHandlers(source) || hasHandlers(own)) return true;
  const configured = CallbackManager.configure(undefined, undefined);
  return configured !== undefined && configured.handlers.length > 0;
}

/** A list of handlers or a callback manager with any handler in it. */
function hasHandlers(callbacks: unknown): boolean {
  if (callbacks === undefined || callbacks === null) return false;
  if (Array.isArray(callbacks)) return callbacks.length > 0;
  const handlers = (callbacks as { handlers?: unknown }).handlers;
  return !Array.isArray(handlers) || handlers.length > 0;
}

/** A private manager for the callbacks as LangChain finds them: a copy of a manager, else one with the handlers. */
function managerOf(source: unknown): ManagerLike {
  if (typeof source === "object" && source !== null && !Array.isArray(source) && "copy" in source)
    return (source as ManagerLike).copy();
  const m = new CallbackManager();
  if (Array.isArray(source)) m.setHandlers(source.map((h) => ensureHandler(h as never)));
  return m as unknown as ManagerLike;
}

/**
 * Reports the runs `manager` starts with the `starts` methods, and those of its copies: LangChain's
 * `CallbackManager.configure` copies the manager it is given (adding the runnable's own handlers
 * and tracers), and the copy is where the runs start. A run's children (`getChild`) are new
 * managers: not reported.
 */
function reportStarts(
  manager: ManagerLike,
  starts: readonly string[],
  onStart: (method: string, started: unknown) => void,
): void {
  const copy = manager.copy;
  manager.copy = function heldCopy(this: ManagerLike, ...args: Args) {
    const configured = copy.apply(this, args);
    reportStarts(configured, starts, onStart);
    return configured;
  };
  for (const method of starts) {
    const start = manager[method];
    if (typeof start !== "function") continue;
    manager[method] = async function heldStart(this: ManagerLike, ...args: Args) {
      const started = await (start as (...a: Args) => Promise<unknown>).apply(this, args);
      onStart(method, started);
      return started;
    };
  }
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

/*
 * A tool's result, checked by the task's input guards, is held the same way: LangChain gives it to
 * the handlers when the tool returns (`handleToolEnd`: streamEvents' on_tool_end, the caller's
 * handlers), before the funnel has checked it. With input guards only, the tool runs with a copy of
 * its callback manager whose tool run holds its end, its error and its stream events
 * (`handleToolEvent`) until the guards have decided: then the events as they were when the result
 * passed, else the end with the guarded result (the redacted one, the refusal) and no stream events;
 * an error delivers the error the funnel settled on (the tool's, or a copy with the redacted text or
 * the refusal). A tool made with `Runnable.asTool()` is a chain run, with the runnable it wraps as
 * its last step: both runs' ends and errors are held. Runs inside the tool (its body's own model or
 * runnable calls) are the tool's work, not its result: they are not held.
 */

interface HeldToolRun {
  run: Record<string, unknown>;
  end: string;
  error: string;
  /** The run's own methods, by name. */
  own: Record<string, (...args: Args) => Promise<void>>;
  events: Array<[method: string, args: Args]>;
  settled: boolean;
}

export interface HeldToolCallbacks {
  /** The call's config, with the holding callback manager as its callbacks. */
  config: Record<string, unknown>;
  /** Gives the handlers what the guards allow: `guarded` is `raw` when the result passed, else what replaces it. */
  release(raw: unknown, guarded: unknown): Promise<void>;
  /** The call failed with `error` (the tool's, or the copy the guards rewrote): each run not yet settled ends with it. */
  fail(error: unknown): Promise<void>;
  /** Whether the events were delivered. */
  readonly settled: boolean;
}

/**
 * Holds the callback events of a tool call: `StructuredTool.call(arg, config)` (`asTool` false:
 * the config's callbacks, as `call` reads them) or `RunnableToolLike.invoke(input, config)` (the
 * config's, else the ambient config's, as `ensureConfig` finds them).
 */
export function holdToolCallbacks(config: unknown, asTool: boolean, own: unknown): HeldToolCallbacks | undefined {
  // `call` also takes the callbacks themselves (`parseCallbackConfigArg`): a list, or a manager.
  const given =
    config === undefined || config === null
      ? {}
      : Array.isArray(config) || (typeof config === "object" && "copy" in config)
        ? { callbacks: config }
        : (config as Record<string, unknown>);
  const ambient = asTool
    ? (AsyncLocalStorageProviderSingleton.getRunnableConfig() as { callbacks?: unknown } | undefined)
    : undefined;
  const source = given.callbacks ?? ambient?.callbacks;
  if (!reachesHandlers(source, own)) return undefined;
  const manager = managerOf(source);
  const runs: HeldToolRun[] = [];
  let settled = false;
  const onStart = (bound: boolean) => (method: string, started: unknown) => {
    if (typeof started !== "object" || started === null) return;
    const run = started as Record<string, unknown>;
    if (method === "handleToolStart") runs.push(holdRun(run, "handleToolEnd", "handleToolError", ["handleToolEvent"]));
    else {
      runs.push(holdRun(run, "handleChainEnd", "handleChainError", []));
      // The runnable `asTool` wraps: the last of the tool's two steps (`parse_input`, then it).
      if (!bound) {
        const getChild = run.getChild;
        if (typeof getChild === "function")
          run.getChild = function heldChild(this: unknown, tag?: string) {
            const child = getChild.call(this, tag) as ManagerLike;
            if (tag === "seq:step:2") reportStarts(child, ["handleChainStart", "handleToolStart"], onStart(true));
            return child;
          };
      }
    }
  };
  reportStarts(manager, [asTool ? "handleChainStart" : "handleToolStart"], onStart(false));
  // The innermost run first, as LangChain ends them.
  const pending = () => {
    settled = true;
    return runs.filter((r) => !r.settled).reverse();
  };
  return {
    config: { ...given, callbacks: manager },
    get settled() {
      return settled;
    },
    async release(raw, guarded) {
      for (const r of pending()) {
        r.settled = true;
        if (raw === guarded) {
          for (const [method, args] of r.events) await r.own[method]?.apply(r.run, args);
          continue;
        }
        // Changed by the guards: the end with what replaces the result; the tool's stream events and errors never.
        const end = r.events.find(([method]) => method === r.end);
        if (end) await r.own[r.end]?.apply(r.run, [guarded, ...end[1].slice(1)]);
      }
    },
    async fail(error) {
      for (const r of pending()) {
        r.settled = true;
        const own = r.events.find(([method]) => method === r.error);
        await r.own[r.error]?.apply(r.run, [error, ...(own ? own[1].slice(1) : [])]);
      }
    },
  };
}

/** Replaces a tool or chain run's end, error and stream-event methods with ones that hold the events. */
function holdRun(run: Record<string, unknown>, end: string, error: string, streamed: readonly string[]): HeldToolRun {
  const r: HeldToolRun = { run, end, error, own: {}, events: [], settled: false };
  for (const method of [end, error, ...streamed]) {
    const own = run[method];
    if (typeof own !== "function") continue;
    r.own[method] = own as (...args: Args) => Promise<void>;
    // Events after the release (none are expected) are dropped: they were never checked.
    run[method] = async (...args: Args) => {
      if (!r.settled) r.events.push([method, args]);
    };
  }
  return r;
}
