/**
 * Wrap a langchain v1 createAgent agent, with a final-answer correction loop.
 *   npm run example:create-agent
 */
import { tool } from "@langchain/core/tools";
import { schemaCheck, Warden } from "agentwarden";
import { wrapGraph } from "agentwarden/langgraph";
import { ScriptedChatModel } from "agentwarden/testing";
import { createAgent } from "langchain";
import { z } from "zod";

const convert = tool(async ({ celsius }: { celsius: number }) => String((celsius * 9) / 5 + 32), {
  name: "to_fahrenheit",
  description: "Converts Celsius to Fahrenheit.",
  schema: z.object({ celsius: z.number() }),
});
const model = new ScriptedChatModel({
  model: "claude-haiku-4-5",
  provider: "anthropic",
  script: (messages) => {
    const last = messages.at(-1);
    if (last?.getType() === "human" && last.name === "agentwarden")
      return { content: '{"fahrenheit": 64.4}', usage: { input: 300, output: 12 } };
    if (last?.getType() === "tool")
      return { content: `It is ${String(last.content)}°F.`, usage: { input: 260, output: 10 } };
    return { toolCalls: [{ name: "to_fahrenheit", args: { celsius: 18 } }], usage: { input: 200, output: 20 } };
  },
});

const warden = new Warden();
const agent = wrapGraph(createAgent({ model, tools: [convert], name: "converter" }), {
  warden,
  corrections: [
    { node: "model_request", evaluators: [schemaCheck("json_answer", z.object({ fahrenheit: z.number() }))] },
  ],
});
warden.onTaskEnd((run) => {
  const s = run.summary();
  console.log(
    `task ${s.outcome}: ${s.failures.eval} eval failure(s), ${s.recoveredInjected.eval} corrected by agentwarden; cost $${s.costUsd.toFixed(6)}`,
  );
});
const out = await agent.invoke({ messages: [{ role: "user", content: "18°C in Fahrenheit, as JSON please" }] });
console.log(`answer: ${String(out.messages.at(-1)?.content)}`);
