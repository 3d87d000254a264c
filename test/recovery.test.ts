import type { BaseMessage } from "@langchain/core/messages";
import { type StructuredToolInterface, tool } from "@langchain/core/tools";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { type Correction, wrapGraph } from "../adapters/langgraph/index.js";
import { type Script, ScriptedChatModel } from "../adapters/testing/index.js";
import {
  argusCounts,
  correctiveText,
  failureClass,
  isBreakerTrip,
  judgeCheck,
  planRecovery,
  type RecoveryConfig,
  type RecoveryOptions,
  schemaCheck,
  type TaskSummary,
  type Totals,
  Warden,
} from "../src/index.js";
import { user } from "./support/agents.js";
import { memoryTracing, n, tree } from "./support/otel.js";

const fast: RecoveryOptions = { retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 2 } };

function counting<T extends z.ZodRawShape>(
  name: string,
  shape: T,
  body: (args: z.infer<z.ZodObject<T>>, call: number) => string,
) {
  const state = { executions: 0 };
  const t = tool(
    async (args: z.infer<z.ZodObject<T>>) => {
      state.executions++;
      return body(args, state.executions);
    },
    { name, description: `The ${name} tool.`, schema: z.object(shape) },
  );
  return Object.assign(t, { state });
}

function agentWith(warden: Warden, script: Script, tools: StructuredToolInterface[], corrections?: Correction[]) {
  const llm = new ScriptedChatModel({ script, model: "test-model" });
  const agent = wrapGraph(createReactAgent({ llm, tools, name: "fixer" }), {
    warden,
    ...(corrections ? { corrections } : {}),
  });
  return { agent, llm };
}

function lastSummary(warden: Warden) {
  const summaries: TaskSummary[] = [];
  warden.onTaskEnd((run) => summaries.push(run.summary()));
  return () => summaries.at(-1) as TaskSummary;
}

/** Calls `tool` with `args` once, then answers with the tool's last result. */
const callOnce =
  (name: string, args: Record<string, unknown>): Script =>
  (messages) => {
    const last = messages.at(-1);
    return last?.getType() === "tool"
      ? { content: `result: ${String(last.content)}` }
      : { toolCalls: [{ name, args, id: "call_1" }] };
  };

describe("failure classes", () => {
  it("tells transient, permanent and control failures apart", () => {
    expect(failureClass(new Error("503 Service Unavailable"))).toBe("transient");
    expect(failureClass(Object.assign(new Error("slow down"), { status: 429 }))).toBe("transient");
    expect(failureClass(Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }))).toBe("transient");
    expect(failureClass(Object.assign(new Error("Request timed out"), { code: -32001 }))).toBe("transient");
    expect(failureClass(Object.assign(new Error("bad"), { name: "ToolInputParsingException" }))).toBe("permanent");
    expect(failureClass(new Error("ENOENT: no such file or directory, open '/x'"))).toBe("permanent");
    expect(failureClass(new Error("permission denied"))).toBe("permanent");
    expect(failureClass(Object.assign(new Error("x"), { status: 404 }))).toBe("permanent");
    expect(failureClass(Object.assign(new Error("paused"), { name: "GraphInterrupt" }))).toBe("control");
    expect(failureClass(Object.assign(new Error("stop"), { name: "AbortError" }))).toBe("control");
  });
});

describe("tool recovery", () => {
  it("recovers a flaky tool (two transient failures, then success) by retry in exactly 3 attempts: ERR 1", async () => {
    const { provider, spans } = memoryTracing();
    const warden = new Warden({ tracerProvider: provider, recovery: fast });
    const summary = lastSummary(warden);
    const flaky = counting("weather", { city: z.string() }, ({ city }, call) => {
      if (call <= 2) throw new Error("503 Service Unavailable");
      return `${city}: 18°C`;
    });
    const { agent, llm } = agentWith(warden, callOnce("weather", { city: "Lyon" }), [flaky]);
    const out = await agent.invoke(user("weather?"));
    expect(out.messages.at(-1)?.content).toBe("result: Lyon: 18°C");
    expect([flaky.state.executions, llm.calls]).toEqual([3, 2]);
    expect(tree(spans())).toEqual([
      n("invoke_agent fixer", [
        n("agent", [n("chat test-model")]),
        n("tools", [
          n("execute_tool weather", [], "ERROR"),
          n("recover weather", [n("execute_tool weather", [], "ERROR"), n("execute_tool weather")]),
        ]),
        n("agent", [n("chat test-model")]),
      ]),
    ]);
    const recover = spans().find((s) => s.name === "recover weather");
    expect(recover?.attributes).toMatchObject({
      "agentwarden.recovery.trigger": "tool_error",
      "agentwarden.recovery.cause": "transient",
      "agentwarden.recovery.action": "retry",
      "agentwarden.recovery.attempts": 3,
    });
    const s = summary();
    expect([s.failures.tool, s.recovered.tool, s.recoveredInjected.tool]).toEqual([2, 2, 2]);
    expect(s.recovered.tool / s.failures.tool).toBe(1); // the task's ERR
    expect(s.retries).toBe(2);
    expect(s.outcome).toBe("success");
  });

  it("answers a call with bad arguments with a corrective message; the model reads it and fixes its call", async () => {
    const warden = new Warden({ tracing: false, recovery: fast });
    const summary = lastSummary(warden);
    const lookup = counting(
      "lookup_order",
      { order_id: z.number().int() },
      ({ order_id }) => `order ${order_id}: shipped`,
    );
    const script: Script = (messages) => {
      const last = messages.at(-1);
      if (last?.getType() === "human")
        return { toolCalls: [{ name: "lookup_order", args: { order_id: "A-17" }, id: "c1" }] };
      if (last?.getType() === "tool" && String(last.content).includes("Expected arguments")) {
        return { toolCalls: [{ name: "lookup_order", args: { order_id: 17 }, id: "c2" }] };
      }
      return { content: String(last?.content) };
    };
    const { agent, llm } = agentWith(warden, script, [lookup]);
    const out = await agent.invoke(user("where is order A-17?"));
    expect(out.messages.at(-1)?.content).toBe("order 17: shipped");
    expect([lookup.state.executions, llm.calls]).toEqual([1, 3]);

    // The corrective message: its place in the state (the ToolMessage answering the bad call) and its content.
    const corrective = out.messages[2] as BaseMessage & { tool_call_id?: string; status?: string };
    expect(corrective.getType()).toBe("tool");
    expect(corrective.tool_call_id).toBe("c1");
    expect(corrective.status).toBe("error");
    const lines = String(corrective.content).split("\n");
    expect(lines[0]).toMatch(
      /^Tool "lookup_order" failed \(invalid arguments\): Received tool input did not match expected schema/,
    );
    expect(lines[0]).toContain("order_id");
    expect(lines[1]).toMatch(/^Expected arguments \(JSON Schema\): \{.*"order_id":\{"type":"integer"/);
    expect(lines[2]).toBe(
      "Change the arguments to match what the tool expects and call lookup_order again; repeating the same call will fail the same way.",
    );
    expect(String(corrective.content)).not.toMatch(/\n\s+at /); // no stack trace

    const s = summary();
    expect([s.failures.tool, s.recovered.tool, s.recoveredInjected.tool]).toEqual([1, 1, 1]);
    expect(s.retries).toBe(0); // a permanent error is not retried
  });

  it("does not retry a permanent error", async () => {
    const warden = new Warden({ tracing: false, recovery: fast });
    const files = counting("read_file", { path: z.string() }, ({ path }) => {
      throw new Error(`ENOENT: no such file or directory, open '${path}'`);
    });
    const { agent } = agentWith(warden, callOnce("read_file", { path: "/missing.txt" }), [files]);
    const out = await agent.invoke(user("read it"));
    expect(files.state.executions).toBe(1);
    expect(String(out.messages[2]?.content)).toBe(
      [
        `Tool "read_file" failed (a permanent error): ENOENT: no such file or directory, open '/missing.txt'`,
        'Expected arguments (JSON Schema): {"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","properties":{"path":{"type":"string"}},"required":["path"],"additionalProperties":false}',
        "Change the arguments to match what the tool expects and call read_file again; repeating the same call will fail the same way.",
      ].join("\n"),
    );
  });

  it("calls a configured fallback tool, whose success recovers the failed one", async () => {
    const backup = counting("search_backup", { q: z.string() }, ({ q }) => `backup results for ${q}`);
    const warden = new Warden({ tracing: false, recovery: { retry: false, fallbacks: { search: backup } } });
    const summary = lastSummary(warden);
    const primary = counting("search", { q: z.string() }, () => {
      throw new Error("502 Bad Gateway");
    });
    const { agent } = agentWith(warden, callOnce("search", { q: "tides" }), [primary]);
    const out = await agent.invoke(user("search"));
    expect(out.messages.at(-1)?.content).toBe("result: backup results for tides");
    expect([primary.state.executions, backup.state.executions]).toEqual([1, 1]);
    const s = summary();
    expect(s.tools.search).toMatchObject({ calls: 1, failures: 1, recovered: 1 });
    expect(s.tools.search_backup).toMatchObject({ calls: 1, completed: 1 });
    expect([s.recovered.tool, s.recoveredInjected.tool]).toEqual([1, 1]);
    // A fallback is another tool standing in, not a retry of the failed one: ARGUS's N stays 0.
    expect(s.retries).toBe(0);
    expect(argusCounts(warden.metrics?.snapshot().cumulative.totals as Totals).retries).toBe(0);
  });

  it("counts retries, not the fallback that follows them, as N", async () => {
    const backup = counting("search_backup", { q: z.string() }, ({ q }) => `backup results for ${q}`);
    const warden = new Warden({ tracing: false, recovery: { ...fast, fallbacks: { search: backup } } });
    const summary = lastSummary(warden);
    const primary = counting("search", { q: z.string() }, () => {
      throw new Error("503 Service Unavailable");
    });
    const { agent } = agentWith(warden, callOnce("search", { q: "tides" }), [primary]);
    const out = await agent.invoke(user("search"));
    expect(out.messages.at(-1)?.content).toBe("result: backup results for tides");
    // The first call and 2 retries (maxAttempts 3) fail, then the fallback answers.
    expect([primary.state.executions, backup.state.executions]).toEqual([3, 1]);
    const s = summary();
    expect(s.retries).toBe(2);
    expect(argusCounts(warden.metrics?.snapshot().cumulative.totals as Totals).retries).toBe(2);
  });

  it("tries the user's handler before the corrective message", async () => {
    const seen: string[] = [];
    const warden = new Warden({
      tracing: false,
      recovery: {
        retry: false,
        onToolError: (ctx) => {
          seen.push(`${ctx.tool}:${ctx.failureClass}:${ctx.attempts}`);
          return "Use the cached price of 42 instead.";
        },
      },
    });
    const price = counting("price", { sku: z.string() }, () => {
      throw new Error("permission denied");
    });
    const { agent } = agentWith(warden, callOnce("price", { sku: "x" }), [price]);
    const out = await agent.invoke(user("price?"));
    expect(out.messages.at(-1)?.content).toBe("result: Use the cached price of 42 instead.");
    expect(seen).toEqual(["price:permanent:1"]);
  });

  it("a budget trip during recovery stops it: retries count against the breakers", async () => {
    const warden = new Warden({
      tracing: false,
      recovery: { retry: { maxAttempts: 5, initialDelayMs: 1, maxDelayMs: 2 } },
      limits: { maxToolCalls: 2 },
    });
    const down = counting("api", { q: z.string() }, () => {
      throw new Error("503 Service Unavailable");
    });
    const { agent } = agentWith(warden, callOnce("api", { q: "x" }), [down]);
    let caught: unknown;
    try {
      await agent.invoke(user("go"));
    } catch (error) {
      caught = error;
    }
    expect(isBreakerTrip(caught)).toBe(true);
    expect(isBreakerTrip(caught) && caught.data).toMatchObject({ kind: "tool_calls", limit: 2, observed: 3 });
    expect(down.state.executions).toBe(2);
  });
});

describe("eval-driven correction", () => {
  const json = schemaCheck("answer_json", z.object({ answer: z.number() }));

  it("a zod check on the final answer fails once; the correction makes it pass", async () => {
    const { provider, spans } = memoryTracing();
    const warden = new Warden({ tracerProvider: provider });
    const summary = lastSummary(warden);
    const script: Script = (messages) => {
      const last = messages.at(-1);
      return last?.getType() === "human" && last.name === "agentwarden"
        ? { content: '{"answer": 42}' }
        : { content: "The answer is 42." };
    };
    const { agent, llm } = agentWith(warden, script, [], [{ evaluators: [json] }]);
    const out = await agent.invoke(user("what is six times seven?"));
    expect(llm.calls).toBe(2);
    expect(out.messages.map((m) => [m.getType(), String(m.content)])).toEqual([
      ["human", "what is six times seven?"],
      ["ai", "The answer is 42."],
      [
        "human",
        'Your previous answer did not pass the check "answer_json": the answer must be valid JSON. Correct your answer and reply again.',
      ],
      ["ai", '{"answer": 42}'],
    ]);
    expect(out.messages[2]?.name).toBe("agentwarden");
    const s = summary();
    expect(s.outcome).toBe("success");
    expect([s.failures.eval, s.recovered.eval, s.recoveredInjected.eval]).toEqual([1, 1, 1]);
    expect(tree(spans())).toEqual([
      n("invoke_agent fixer", [
        n("agent", [
          n("chat test-model"),
          n("eval answer_json", [], "ERROR"),
          n("recover agent", [n("chat test-model")]),
          n("eval answer_json"),
        ]),
      ]),
    ]);
  });

  it("a check that never passes ends the task as a failure after N attempts", async () => {
    const warden = new Warden({ tracing: false });
    const summary = lastSummary(warden);
    const { agent, llm } = agentWith(
      warden,
      () => ({ content: "forty-two" }),
      [],
      [{ evaluators: [json], maxAttempts: 3 }],
    );
    const out = await agent.invoke(user("q"));
    expect(llm.calls).toBe(3);
    expect(out.messages.map((m) => m.getType())).toEqual(["human", "ai", "human", "ai", "human", "ai"]);
    const s = summary();
    expect(s.outcome).toBe("failure");
    expect(s.error).toEqual({
      type: "eval_failed",
      message: "evaluator answer_json failed: the answer must be valid JSON (after 3 attempts)",
    });
    expect([s.failures.eval, s.recovered.eval]).toEqual([3, 0]);
  });

  it("an LLM judge scores the answer; the loop stops early when the score stops improving", async () => {
    const warden = new Warden({ tracing: false });
    const summary = lastSummary(warden);
    const scores = ["0.5 cites no source", "0.4 still no source"];
    const judge = new ScriptedChatModel({ model: "judge-model", script: (_m, i) => ({ content: scores[i] ?? "1" }) });
    const check = judgeCheck({
      name: "cites_sources",
      model: judge,
      criteria: "The answer cites a source.",
      threshold: 0.8,
    });
    const { agent, llm } = agentWith(
      warden,
      () => ({ content: "Paris is big." }),
      [],
      [{ evaluators: [check], maxAttempts: 5 }],
    );
    await agent.invoke(user("q"));
    // Attempt 1 scores 0.5, attempt 2 scores 0.4: no improvement, so no third attempt.
    expect([llm.calls, judge.calls]).toEqual([2, 2]);
    const s = summary();
    expect(s.outcome).toBe("failure");
    expect(s.error?.message).toBe("evaluator cites_sources failed: still no source (the score stopped improving)");
    // The judge's calls are model calls of the task, priced and counted.
    expect(s.models["judge-model"]?.calls).toBe(2);
  });

  it("an evaluator that throws is an eval error, not a pass; the task fails or goes on as configured", async () => {
    const broken = {
      name: "broken_check",
      evaluate: () => {
        throw new TypeError("cannot read properties of undefined");
      },
    };
    for (const [mode, outcome] of [
      ["fail", "failure"],
      ["continue", "success"],
    ] as const) {
      const warden = new Warden({ tracing: false });
      const summary = lastSummary(warden);
      const { agent } = agentWith(
        warden,
        () => ({ content: "an answer" }),
        [],
        [{ evaluators: [broken], onEvaluatorError: mode }],
      );
      const out = await agent.invoke(user("q"));
      expect(out.messages.at(-1)?.content).toBe("an answer");
      const s = summary();
      expect(s.outcome).toBe(outcome);
      expect(s.failures.eval).toBe(1);
      expect(s.steps.find((st) => st.k === "eval")?.e).toEqual({
        type: "eval_error",
        message: "evaluator broken_check threw TypeError: cannot read properties of undefined",
      });
    }
  });

  it("rejects malformed corrections at wrap time", () => {
    const warden = new Warden({ tracing: false });
    const graph = createReactAgent({ llm: new ScriptedChatModel({ script: [{ content: "x" }] }), tools: [] });
    expect(() => wrapGraph(graph, { warden, corrections: [{ evaluators: [] }] })).toThrow(
      "agentwarden: option corrections[0].evaluators must be a non-empty array of { name, evaluate }, got an empty array",
    );
    expect(() => wrapGraph(graph, { warden, corrections: {} as never })).toThrow(/option corrections must be an array/);
    expect(() =>
      wrapGraph(graph, { warden, corrections: [{ evaluators: [json] }, { evaluators: [json], maxAttempts: 0 }] }),
    ).toThrow(new RangeError("agentwarden: option corrections[1].maxAttempts must be an integer >= 1, got number 0"));
    expect(() => wrapGraph(graph, {} as never)).toThrow("agentwarden: option warden must be a Warden, got undefined");
    expect(() => new Warden({ recovery: { retry: { maxAttempts: 0 } } })).toThrow(
      /option recovery\.retry\.maxAttempts is invalid/,
    );
    expect(() => new Warden({ recovery: { fallbacks: { a: {} } } })).toThrow(
      /option recovery\.fallbacks\.a is invalid: expected a tool/,
    );
  });
});

describe("the recovery plan, decided once in the core for every funnel", () => {
  const retry = { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 2 };
  const handler = () => undefined;
  const backup = { name: "backup" };
  const all: RecoveryConfig = { retry, fallbacks: { t: backup }, correctiveMessages: true, onToolError: handler };
  const actions = (plan: Array<{ action: string }>) => plan.map((d) => d.action);

  it("is cheapest first, by failure class; control failures are never recovered", () => {
    expect(actions(planRecovery({ tool: "t", failureClass: "transient" }, all, true))).toEqual([
      "retry",
      "fallback",
      "handler",
      "corrective_message",
    ]);
    expect(actions(planRecovery({ tool: "t", failureClass: "permanent" }, all, true))).toEqual([
      "fallback",
      "handler",
      "corrective_message",
    ]);
    expect(planRecovery({ tool: "t", failureClass: "control" }, all, true)).toEqual([]);
  });

  it("follows the options: a fallback per tool, one attempt is no retry, text only where the call can be answered", () => {
    expect(actions(planRecovery({ tool: "other", failureClass: "transient" }, all, false))).toEqual([
      "retry",
      "handler",
    ]);
    const oneAttempt = { ...all, retry: { ...retry, maxAttempts: 1 }, onToolError: undefined };
    expect(actions(planRecovery({ tool: "t", failureClass: "transient" }, oneAttempt, true))).toEqual([
      "fallback",
      "corrective_message",
    ]);
    expect(planRecovery({ tool: "t", failureClass: "transient" }, all, true)[1]).toEqual({
      action: "fallback",
      tool: backup,
    });
  });

  it("gives the same corrective text to every funnel: class, first lines, schema, what to do", () => {
    const text = correctiveText(
      {
        tool: "lookup_order",
        error: { type: "ToolInputParsingException", message: "bad input\n    at parse (x.js:1:1)\nexpected number" },
        failureClass: "permanent",
        attempts: 1,
      },
      '{"type":"object"}',
      (t) => t.replace("number", "[N]"),
    );
    expect(text).toBe(
      'Tool "lookup_order" failed (invalid arguments): bad input; expected [N]\n' +
        'Expected arguments (JSON Schema): {"type":"object"}\n' +
        "Change the arguments to match what the tool expects and call lookup_order again; repeating the same call will fail the same way.",
    );
  });
});
