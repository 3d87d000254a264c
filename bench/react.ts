import { tool } from "@langchain/core/tools";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { ScriptedChatModel } from "agentwarden/testing";
import { z } from "zod";

/**
 * The benchmark agent: a prebuilt ReAct agent whose scripted model makes `steps` tool-calling turns
 * (each a model call and a tool call) and then answers. Stateless, so one graph serves every run.
 */
export function scriptedReactAgent(steps = 10) {
  const lookup = tool(async ({ key }: { key: string }) => `value of ${key}`, {
    name: "lookup",
    description: "Looks a key up.",
    schema: z.object({ key: z.string() }),
  });
  const model = new ScriptedChatModel({
    script: (messages) => {
      const turns = messages.filter((m) => m.getType() === "ai").length;
      return turns < steps
        ? {
            toolCalls: [{ name: "lookup", args: { key: `k${turns}` }, id: `call_${turns}` }],
            usage: { input: 100 + turns, output: 20 },
          }
        : { content: "done", usage: { input: 200, output: 10 } };
    },
  });
  return createReactAgent({ llm: model, tools: [lookup], name: "bench_agent" });
}

export const input = { messages: [{ role: "user", content: "go" }] };
