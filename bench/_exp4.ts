import { BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter, NoopSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { wrapGraph } from "../adapters/langgraph/index.js";
import { Warden } from "../src/index.js";
import { interleave, ratios } from "./harness.js";
import { input, scriptedReactAgent } from "./react.js";
const exporter = new InMemorySpanExporter();
const batch = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter, { maxQueueSize: 100000, scheduledDelayMillis: 50 })] });
const noproc = new BasicTracerProvider({ spanProcessors: [new NoopSpanProcessor()] });
const bare = scriptedReactAgent(10);
const ledger = wrapGraph(scriptedReactAgent(10), { warden: new Warden({ tracing: false }) });
const sdkNoop = wrapGraph(scriptedReactAgent(10), { warden: new Warden({ tracerProvider: noproc }) });
const full = wrapGraph(scriptedReactAgent(10), { warden: new Warden({ tracerProvider: batch }) });
const times = await interleave(
  [
    { name: "bare", run: async () => void (await bare.invoke(input)) },
    { name: "ledger", run: async () => void (await ledger.invoke(input)) },
    { name: "sdkNoop", run: async () => void (await sdkNoop.invoke(input)) },
    { name: "full", run: async () => { await full.invoke(input); if (exporter.getFinishedSpans().length > 2000) exporter.reset(); } },
  ],
  { rounds: Number(process.argv[2] ?? 200), perRound: 1, warmup: 10 },
);
for (const v of ["ledger", "sdkNoop", "full"]) console.log(v, JSON.stringify(ratios(times, v, "bare")));
