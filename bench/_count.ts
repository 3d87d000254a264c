import { createHook } from "node:async_hooks";
import { BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import { wrapGraph } from "../adapters/langgraph/index.js";
import { Warden } from "../src/index.js";
import { input, scriptedReactAgent } from "./react.js";

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({
  spanProcessors: [new BatchSpanProcessor(exporter, { maxQueueSize: 100000, scheduledDelayMillis: 50 })],
});
const graphs = {
  bare: scriptedReactAgent(10),
  ledger: wrapGraph(scriptedReactAgent(10), { warden: new Warden({ tracing: false }) }),
  full: wrapGraph(scriptedReactAgent(10), { warden: new Warden({ tracerProvider: provider }) }),
};
let count = 0;
const hook = createHook({
  init(_id, type) {
    if (type === "PROMISE") count++;
  },
});
for (const [name, g] of Object.entries(graphs)) {
  await g.invoke(input);
  hook.enable();
  count = 0;
  await g.invoke(input);
  hook.disable();
  const h0 = process.memoryUsage().heapUsed;
  console.log(name, "promises/run", count);
}
