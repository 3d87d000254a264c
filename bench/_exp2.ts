import { BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import { wrapGraph } from "../adapters/langgraph/index.js";
import { Warden } from "../src/index.js";
import { interleave, ratios } from "./harness.js";
import { input, scriptedReactAgent } from "./react.js";
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter, { maxQueueSize: 100000, scheduledDelayMillis: 50 })] });
const bare = scriptedReactAgent(10);
const bare2 = scriptedReactAgent(10);
const full = wrapGraph(scriptedReactAgent(10), { warden: new Warden({ tracerProvider: provider }) });
const ledger = wrapGraph(scriptedReactAgent(10), { warden: new Warden({ tracing: false }) });
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const times = await interleave([
  { name: "bare", run: async () => void (await bare.invoke(input)) },
  { name: "bare2", run: async () => void (await bare2.invoke(input)) },
  { name: "full", run: async () => { await full.invoke(input); } },
  { name: "ledger", run: async () => void (await ledger.invoke(input)) },
], { rounds: Number(process.argv[2] ?? 100), perRound: Number(process.argv[3] ?? 5), warmup: 5 });
exporter.reset();
for (const v of ["bare2", "full", "ledger"]) console.log(v, JSON.stringify(ratios(times, v, "bare")));
