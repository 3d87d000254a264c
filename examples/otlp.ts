/**
 * OTLP export to a collector: spans over OTLP/HTTP to http://127.0.0.1:4318/v1/traces (an
 * OpenTelemetry Collector, Jaeger, Tempo, Phoenix, Langfuse...). With --local-collector, a tiny
 * receiver on 127.0.0.1 stands in for the collector and prints what arrived.
 *   npm run example:otlp -- --local-collector
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tool } from "@langchain/core/tools";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { context, propagation } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { BasicTracerProvider } from "@opentelemetry/sdk-trace-base";
import { Warden } from "agentwarden";
import { wrapGraph } from "agentwarden/langgraph";
import { SpanQueue } from "agentwarden/otel";
import { ScriptedChatModel } from "agentwarden/testing";
import { z } from "zod";

let endpoint = process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? "http://127.0.0.1:4318/v1/traces";
const received: string[] = [];
let collector: ReturnType<typeof createServer> | undefined;
if (process.argv.includes("--local-collector")) {
  collector = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const data = JSON.parse(body) as {
        resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ name: string }> }> }>;
      };
      for (const rs of data.resourceSpans)
        for (const ss of rs.scopeSpans) for (const s of ss.spans) received.push(s.name);
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((r) => collector?.listen(0, "127.0.0.1", () => r()));
  endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces`;
}

// The application's OpenTelemetry set-up: context manager, propagator, OTLP exporter.
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());
// SpanQueue batches like the SDK's BatchSpanProcessor, with a bounded queue whose every drop (and
// every failed export) is counted and reported to the Warden.
let warden: Warden | undefined;
const queue = new SpanQueue(new OTLPTraceExporter({ url: endpoint }), {
  maxQueueSize: 2048,
  onError: (e, s) => warden?.reportError(e, s),
});
const provider = new BasicTracerProvider({ spanProcessors: [queue] });
warden = new Warden({ tracerProvider: provider });

const lookup = tool(async ({ key }: { key: string }) => `value of ${key}`, {
  name: "lookup",
  description: "Looks up.",
  schema: z.object({ key: z.string() }),
});
const llm = new ScriptedChatModel({
  script: (m) =>
    m.some((x) => x.getType() === "tool")
      ? { content: "done" }
      : { toolCalls: [{ name: "lookup", args: { key: "k" } }] },
});
await wrapGraph(createReactAgent({ llm, tools: [lookup], name: "otlp_example" }), { warden }).invoke({
  messages: [{ role: "user", content: "go" }],
});
await warden.flush(); // export before a short-lived process exits
const { exported, dropped, failed } = queue.stats();
console.log(
  `exported ${exported} spans to ${endpoint} (dropped ${dropped}, failed ${failed}); telemetry failures: ${JSON.stringify(warden.stats().telemetryErrors)}`,
);
if (collector) {
  console.log(`the collector received ${received.length} spans: ${received.join(", ")}`);
  collector.close();
}
await provider.shutdown();
