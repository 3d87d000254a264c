import { tool } from "@langchain/core/tools";
import { createReactAgent, ToolNode } from "@langchain/langgraph/prebuilt";
import { expect } from "vitest";
import { z } from "zod";
import { wrapGraph } from "../../adapters/langgraph/index.js";
import { ScriptedChatModel, type ScriptedTurn } from "../../adapters/testing/index.js";
import type { Evaluator, Warden } from "../../src/index.js";

export const user = (content: string) => ({ messages: [{ role: "user", content }] });

/** A search tool answering `results for {q}`. */
export function searchTool() {
  return tool(async ({ q }: { q: string }) => `results for ${q}`, {
    name: "search",
    description: "Searches the web.",
    schema: z.object({ q: z.string() }),
  });
}

/** A tool that fails the first `failures` times it is called, then answers. */
export function flakyTool(name: string, failures: number) {
  let calls = 0;
  return tool(
    async ({ q }: { q: string }) => {
      calls++;
      if (calls <= failures) throw new Error(`${name} unavailable (attempt ${calls})`);
      return `${name}: ${q}`;
    },
    { name, description: `The ${name} tool.`, schema: z.object({ q: z.string() }) },
  );
}

/**
 * A ReAct agent named `name` whose scripted model plays `turns` in order, with the given tools.
 * `handleToolErrors: false` lets a tool error end the task (ToolNode rethrows).
 */
export function scriptedAgent(
  warden: Warden,
  turns: ScriptedTurn[],
  tools: ReturnType<typeof flakyTool>[],
  options: { name?: string; model?: string; handleToolErrors?: boolean; finalEvals?: Evaluator[] } = {},
) {
  const llm = new ScriptedChatModel({ script: turns, model: options.model ?? "test-model" });
  const toolNode = new ToolNode(tools, { handleToolErrors: options.handleToolErrors ?? true });
  const graph = createReactAgent({ llm, tools: toolNode, name: options.name ?? "assistant" });
  return wrapGraph(graph, { warden, ...(options.finalEvals ? { finalEvals: options.finalEvals } : {}) });
}

/** Prices of the scripted `test-model`, per million tokens: easy to compute by hand. */
export const TEST_PRICES = { "test-model": { input: 1, output: 2, cacheRead: 0.1, cacheWrite: 1.25 } };

const lastContent = (state: unknown) => {
  const messages = (state as { messages: Array<{ content: unknown }> }).messages;
  return String(messages.at(-1)?.content ?? "");
};

/**
 * The batch of the acceptance criteria, each task's figures worked out by hand (test-model: $1 per
 * million input tokens, $2 output, $0.10 cache read):
 *   T1 success: search ok. Cost (1000·1 + 100·2) + (1000·1 + 1000·0.1 + 50·2) = 2400 µ$.
 *   T2 failure by exception: the model throws. Cost 0. One model failure.
 *   T3 failure by a tool error never recovered (ToolNode rethrows). Cost 500 + 40 = 540 µ$.
 *   T4 failure by a final eval. Cost 100 + 20 = 120 µ$. One eval failure.
 *   T5 success ("researcher"): flaky2 fails once, the model calls it again, it answers.
 *      Cost (300+60) + (400+60) + (500+20) = 1340 µ$. One tool failure, recovered.
 */
export async function runBatch(warden: Warden) {
  await scriptedAgent(
    warden,
    [
      { toolCalls: [{ name: "search", args: { q: "a" } }], usage: { input: 1000, output: 100 } },
      { content: "found it", usage: { input: 2000, output: 50, cacheRead: 1000 } },
    ],
    [flakyTool("search", 0)],
  ).invoke(user("T1"));
  await expect(
    scriptedAgent(warden, [{ error: new Error("model overloaded") }], []).invoke(user("T2")),
  ).rejects.toThrow("model overloaded");
  await expect(
    scriptedAgent(
      warden,
      [{ toolCalls: [{ name: "broken", args: { q: "x" } }], usage: { input: 500, output: 20 } }, { content: "never" }],
      [flakyTool("broken", 99)],
      { handleToolErrors: false },
    ).invoke(user("T3")),
  ).rejects.toThrow("broken unavailable");
  const t4 = await scriptedAgent(warden, [{ content: "an answer", usage: { input: 100, output: 10 } }], [], {
    finalEvals: [
      {
        name: "cites_source",
        evaluate: (state) => ({ pass: lastContent(state).includes("source"), reason: "no source cited" }),
      },
    ],
  }).invoke(user("T4"));
  expect(lastContent(t4)).toBe("an answer"); // the call itself returns normally
  await scriptedAgent(
    warden,
    [
      { toolCalls: [{ name: "flaky2", args: { q: "x" } }], usage: { input: 300, output: 30 } },
      { toolCalls: [{ name: "flaky2", args: { q: "x" } }], usage: { input: 400, output: 30 } },
      { content: "done", usage: { input: 500, output: 10 } },
    ],
    [flakyTool("flaky2", 1)],
    { name: "researcher" },
  ).invoke(user("T5"));
}
