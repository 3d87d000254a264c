import { BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import { wrapGraph } from "../adapters/langgraph/index.js";
import { Warden } from "../src/index.js";
import { input, scriptedReactAgent } from "./react.js";

const which = process.argv[2];
const n = Number(process.argv[3] ?? 0);
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({
  spanProcessors: [new BatchSpanProcessor(exporter, { maxQueueSize: 100000, scheduledDelayMillis: 50 })],
});
const g =
  which === "bare"
    ? scriptedReactAgent(10)
    : which === "ledger"
      ? wrapGraph(scriptedReactAgent(10), { warden: new Warden({ tracing: false }) })
      : wrapGraph(scriptedReactAgent(10), { warden: new Warden({ tracerProvider: provider }) });
for (let i = 0; i < n; i++) await g.invoke(input);
await provider.shutdown();
