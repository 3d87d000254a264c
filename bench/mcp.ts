import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import { z } from "zod";
import { instrumentMcpClient } from "../adapters/mcp/index.js";
import { runInStep, Warden } from "../src/index.js";
import { interleave, type RatioFigure, ratios } from "./harness.js";

export interface McpFigures {
  description: string;
  /** Per-call time, instrumented client / bare client. */
  ratio: RatioFigure;
  bareUsPerCallMedian: number;
}

async function pair(): Promise<Client> {
  const server = new McpServer({ name: "bench", version: "1.0.0" });
  server.registerTool("echo", { description: "Echoes.", inputSchema: { text: z.string() } }, async ({ text }) => ({
    content: [{ type: "text", text }],
  }));
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(b);
  const client = new Client({ name: "bench", version: "1.0.0" });
  await client.connect(a);
  return client;
}

export async function mcpBench(options: { rounds: number; perRound: number }): Promise<McpFigures> {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new BatchSpanProcessor(exporter, { maxQueueSize: 100_000 })],
  });
  const warden = new Warden({ tracerProvider: provider });
  const bare = await pair();
  const instrumented = instrumentMcpClient(await pair());
  // Both clients are called from inside a task, as an agent would call them: one task per sample.
  const call = (client: Client) => async () => {
    const run = warden.startTask("workflow", { name: "mcp_bench" });
    await runInStep(run.root, async () => {
      for (let i = 0; i < options.perRound; i++) await client.callTool({ name: "echo", arguments: { text: "hi" } });
    });
    run.end(run.root, "ok");
    if (exporter.getFinishedSpans().length > 5000) exporter.reset();
  };
  const times = await interleave(
    [
      { name: "bare", run: call(bare) },
      { name: "instrumented", run: call(instrumented) },
    ],
    { rounds: options.rounds, perRound: 1, warmup: 5 },
  );
  await bare.close();
  await instrumented.close();
  const sorted = [...(times.bare ?? [])].sort((x, y) => x - y);
  return {
    description: `tools/call over InMemoryTransport, ${options.perRound} calls per sample, one task per sample, tracing on (BatchSpanProcessor)`,
    ratio: ratios(times, "instrumented", "bare"),
    bareUsPerCallMedian: Math.round(((sorted[Math.floor(sorted.length / 2)] ?? 0) * 1000) / options.perRound),
  };
}
