/**
 * Wrap a custom StateGraph: conditional edges, a parallel fan-out with Send, a model call in a node.
 *   npm run example:stategraph
 */
import { Annotation, END, Send, START, StateGraph } from "@langchain/langgraph";
import { BasicTracerProvider, ConsoleSpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { Warden } from "agentwarden";
import { wrapGraph } from "agentwarden/langgraph";
import { ScriptedChatModel } from "agentwarden/testing";

const State = Annotation.Root({
  topic: Annotation<string>(),
  notes: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
  draft: Annotation<string>(),
});
const writer = new ScriptedChatModel({
  model: "gpt-4o-mini",
  script: [{ content: "Tides rise twice a day.", usage: { input: 120, output: 12 } }],
});

const graph = new StateGraph(State)
  .addNode("plan", async () => ({}))
  .addNode("gather", async ({ source }: { source: string }) => ({ notes: [`${source}: tides follow the moon`] }))
  .addNode("write", async (s: typeof State.State) => ({
    draft: String((await writer.invoke(`Write about ${s.topic}: ${s.notes.join("; ")}`)).content),
  }))
  .addEdge(START, "plan")
  .addConditionalEdges("plan", (s) =>
    ["encyclopedia", "news"].map((source) => new Send("gather", { source, topic: s.topic })),
  )
  .addEdge("gather", "write")
  .addEdge("write", END)
  .compile({ name: "article_pipeline" });

// Spans to the console; any OpenTelemetry exporter works the same way.
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new ConsoleSpanExporter())] });
const warden = new Warden({ tracerProvider: provider, tracing: process.argv.includes("--spans") });
warden.onTaskEnd((run) => {
  const s = run.summary();
  console.log(
    `task ${s.outcome}: ${Object.entries(s.nodes)
      .map(([n, f]) => `${n}×${f.runs}`)
      .join(", ")}; cost $${s.costUsd.toFixed(6)}`,
  );
});
const out = await wrapGraph(graph, { warden }).invoke({ topic: "tides" });
console.log(`draft: ${out.draft}`);
