/**
 * The quick-start demo: a prebuilt ReAct agent (scripted model, no API key) wrapped by agentwarden,
 * run once; prints the OpenTelemetry span tree it produced and the task's ledger figures.
 *
 *   npm run demo
 */

import { tool } from "@langchain/core/tools";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { context } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { Warden } from "agentwarden";
import { wrapGraph } from "agentwarden/langgraph";
import { ScriptedChatModel } from "agentwarden/testing";
import { z } from "zod";

// 1. An OpenTelemetry SDK, as an application would set one up (here: spans kept in memory).
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

// 2. Tools: a weather lookup that times out once, and a calculator.
let weatherCalls = 0;
const weather = tool(
  async ({ city }: { city: string }) => {
    weatherCalls++;
    if (weatherCalls === 1) throw new Error(`weather service timed out for ${city}`);
    return `${city}: 18°C, light rain`;
  },
  { name: "get_weather", description: "Current weather for a city.", schema: z.object({ city: z.string() }) },
);
const calculator = tool(async ({ expression }: { expression: string }) => String(evaluate(expression)), {
  name: "calculator",
  description: "Evaluates a + b or a * b.",
  schema: z.object({ expression: z.string() }),
});

// 3. A scripted model standing in for a real one: tool calls, usage and cache tokens included.
const model = new ScriptedChatModel({
  model: "gpt-4o-mini",
  script: [
    { toolCalls: [{ name: "get_weather", args: { city: "Lyon" } }], usage: { input: 412, output: 18 } },
    {
      toolCalls: [
        { name: "get_weather", args: { city: "Lyon" } },
        { name: "calculator", args: { expression: "18 * 1.8" } },
      ],
      usage: { input: 480, output: 41, cacheRead: 384 },
    },
    {
      content: "Lyon: 18°C (18 × 1.8 = 32.4, + 32 = 64.4°F), light rain.",
      usage: { input: 560, output: 33, cacheRead: 448 },
    },
  ],
});

// 4. agentwarden: one Warden, one wrapped agent.
const warden = new Warden({ tracerProvider: provider });
const agent = wrapGraph(createReactAgent({ llm: model, tools: [weather, calculator], name: "weather_assistant" }), {
  warden,
});
warden.onTaskEnd((run) => {
  console.log(
    `\ntask ${run.outcome}: ${run.counts.nodes} node runs, ${run.counts.chats} model calls, ` +
      `${run.counts.tools} tool calls (${run.counts.toolErrors} failed), ` +
      `tokens ${run.usage?.input ?? 0} in / ${run.usage?.output ?? 0} out (${run.usage?.cacheRead ?? 0} cached)`,
  );
});

const result = await agent.invoke(
  { messages: [{ role: "user", content: "What's the weather in Lyon, in Fahrenheit?" }] },
  { configurable: { thread_id: "demo-thread-1" } },
);
console.log(`answer: ${String(result.messages.at(-1)?.content)}`);

await warden.flush();
console.log("\nspan tree:");
printTree(exporter.getFinishedSpans());

function printTree(spans: readonly ReadableSpan[]): void {
  const ids = new Set(spans.map((s) => s.spanContext().spanId));
  const children = new Map<string | undefined, ReadableSpan[]>();
  for (const s of spans) {
    const p = s.parentSpanContext?.spanId;
    const key = p && ids.has(p) ? p : undefined;
    children.set(key, [...(children.get(key) ?? []), s]);
  }
  const ms = (s: ReadableSpan) => (s.duration[0] * 1e3 + s.duration[1] / 1e6).toFixed(1);
  const walk = (parent: string | undefined, indent: string) => {
    const list = (children.get(parent) ?? []).sort(
      (a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1],
    );
    for (const s of list) {
      const a = s.attributes;
      const facts = [
        a["gen_ai.usage.input_tokens"] !== undefined
          ? `tokens ${a["gen_ai.usage.input_tokens"]}/${a["gen_ai.usage.output_tokens"]}`
          : "",
        a["gen_ai.tool.call.id"] ? `call ${a["gen_ai.tool.call.id"]}` : "",
        a["error.type"] ? `ERROR ${a["error.type"]}: ${s.status.message}` : "",
      ].filter(Boolean);
      console.log(`${indent}${s.name}  ${ms(s)} ms${facts.length ? `  [${facts.join(", ")}]` : ""}`);
      walk(s.spanContext().spanId, `${indent}  `);
    }
  };
  walk(undefined, "  ");
}

function evaluate(expression: string): number {
  const m = /^\s*(-?[\d.]+)\s*([+*])\s*(-?[\d.]+)\s*$/.exec(expression);
  if (!m) throw new Error(`cannot evaluate ${expression}`);
  const [a, b] = [Number(m[1]), Number(m[3])];
  return m[2] === "+" ? a + b : Math.round(a * b * 100) / 100;
}
