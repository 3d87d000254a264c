import { tool } from "@langchain/core/tools";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { context } from "@opentelemetry/api";
import { z } from "zod";
import { Warden } from "agentwarden";
import { wrapGraph } from "agentwarden/langgraph";
import { ScriptedChatModel } from "agentwarden/testing";
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const warden = new Warden({ tracerProvider: provider });
const search = tool(async ({ q }) => `results for ${q}`, { name: "search", description: "search", schema: z.object({ q: z.string() }) });
const model = new ScriptedChatModel({ script: [
  { toolCalls: [{ name: "search", args: { q: "a" } }, { name: "search", args: { q: "b" } }] },
  { content: "done" } ] });
const agent = wrapGraph(createReactAgent({ llm: model, tools: [search], name: "researcher" }), { warden });
const out = await agent.invoke({ messages: [{ role: "user", content: "hi" }] }, { configurable: { thread_id: "t1" } });
console.log(out.messages.length);
const spans = exporter.getFinishedSpans();
const byId = new Map(spans.map(s => [s.spanContext().spanId, s]));
const kids = new Map();
for (const s of spans) { const p = s.parentSpanContext?.spanId; if (!kids.has(p)) kids.set(p, []); kids.get(p).push(s); }
const print = (s, d) => { console.log("  ".repeat(d) + s.name, JSON.stringify(s.attributes), s.status.code); for (const k of kids.get(s.spanContext().spanId) ?? []) print(k, d+1); };
for (const s of spans.filter(s => !s.parentSpanContext || !byId.has(s.parentSpanContext.spanId))) print(s, 0);
console.log(warden.stats());
