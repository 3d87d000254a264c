import { tool } from "@langchain/core/tools";
import { createReactAgent, ToolNode } from "@langchain/langgraph/prebuilt";
import { z } from "zod";
import { wrapGraph } from "../../adapters/langgraph/index.js";
import { ScriptedChatModel, type ScriptedTurn } from "../../adapters/testing/index.js";
import type { Evaluator, Warden } from "../../src/index.js";

export const user = (content: string) => ({ messages: [{ role: "user", content }] });

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
