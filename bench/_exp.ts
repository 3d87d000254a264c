import { BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import { wrapGraph } from "../adapters/langgraph/index.js";
import { Warden } from "../src/index.js";
import { interleave, ratios } from "../bench/harness.js";
import { input, scriptedReactAgent } from "../bench/react.js";
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter, { maxQueueSize: 100000, scheduledDelayMillis: 50 })] });
const bare = scriptedReactAgent(10);
const full = wrapGraph(scriptedReactAgent(10), { warden: new Warden({ tracerProvider: provider }) });
const ledger = wrapGraph(scriptedReactAgent(10), { warden: new Warden({ tracing: false }) });
const noopTracer = wrapGraph(scriptedReactAgent(10), { warden: new Warden({}) });
const times = await interleave([
  { name: "bare", run: async () => void (await bare.invoke(input)) },
  { name: "full", run: async () => { await full.invoke(input); } },
  { name: "ledger", run: async () => void (await ledger.invoke(input)) },
  { name: "noopTracer", run: async () => void (await noopTracer.invoke(input)) },
], { rounds: 200, perRound: 2, warmup: 10 });
exporter.reset();
for (const v of ["full", "ledger", "noopTracer"]) console.log(v, ratios(times, v, "bare"));
