import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import { runInStep, Warden } from "agentwarden";
import { instrumentMcpClient } from "agentwarden/mcp";
import { z } from "zod";
import { interleave, type RatioFigure, ratios } from "./harness.js";

export interface McpFigures {
  description: string;
  /** Per-call time, instrumented client / bare client, over the in-memory transport. */
  ratio: RatioFigure;
  bareUsPerCallMedian: number;
  /** The same over stdio against a real server from the npm registry (`server-everything`, its `echo` tool). */
  stdio: { description: string; ratio: RatioFigure; bareUsPerCallMedian: number };
}

/** A client of `@modelcontextprotocol/server-everything` over stdio (a child process). */
async function stdioClient(): Promise<Client> {
  const server = join(process.cwd(), "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js");
  const client = new Client({ name: "bench", version: "1.0.0" });
  await client.connect(
    new StdioClientTransport({ command: process.execPath, args: [server, "stdio"], stderr: "ignore" }),
  );
  return client;
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

export async function mcpBench(options: {
  rounds: number;
  perRound: number;
  stdioRounds: number;
}): Promise<McpFigures> {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new BatchSpanProcessor(exporter, { maxQueueSize: 100_000 })],
  });
  const warden = new Warden({ tracerProvider: provider });
  // Both clients are called from inside a task, as an agent would call them: one task per sample.
  const measure = async (bare: Client, instrumented: Client, rounds: number, tool: string) => {
    const call = (client: Client) => async () => {
      const run = warden.startTask("workflow", { name: "mcp_bench" });
      await runInStep(run.root, async () => {
        for (let i = 0; i < options.perRound; i++) await client.callTool({ name: tool, arguments: { text: "hi" } });
      });
      run.end(run.root, "ok");
      if (exporter.getFinishedSpans().length > 5000) exporter.reset();
    };
    const times = await interleave(
      [
        { name: "bare", run: call(bare) },
        { name: "instrumented", run: call(instrumented) },
      ],
      { rounds, perRound: 1, warmup: 5 },
    );
    await bare.close();
    await instrumented.close();
    const sorted = [...(times.bare ?? [])].sort((x, y) => x - y);
    return {
      ratio: ratios(times, "instrumented", "bare"),
      bareUsPerCallMedian: Math.round(((sorted[Math.floor(sorted.length / 2)] ?? 0) * 1000) / options.perRound),
    };
  };
  const memory = await measure(await pair(), instrumentMcpClient(await pair()), options.rounds, "echo");
  // Over stdio: one server process and one instrumented client, so that both variants talk to the
  // same process (two server processes on two cores made the spread as wide as the effect). The
  // instrumentation acts only inside a task: bare is the same client called outside any task
  // (a lookup and straight through), instrumented inside one (a step and a span per call).
  const client = instrumentMcpClient(await stdioClient());
  const calls = async () => {
    for (let i = 0; i < options.perRound; i++) await client.callTool({ name: "echo", arguments: { message: "hi" } });
  };
  const stdioTimes = await interleave(
    [
      { name: "bare", run: calls },
      {
        name: "instrumented",
        run: async () => {
          const run = warden.startTask("workflow", { name: "mcp_bench" });
          await runInStep(run.root, calls);
          run.end(run.root, "ok");
          if (exporter.getFinishedSpans().length > 5000) exporter.reset();
        },
      },
    ],
    { rounds: options.stdioRounds, perRound: 1, warmup: 5 },
  );
  await client.close();
  const stdioBare = [...(stdioTimes.bare ?? [])].sort((x, y) => x - y);
  const stdio = {
    ratio: ratios(stdioTimes, "instrumented", "bare"),
    bareUsPerCallMedian: Math.round(((stdioBare[Math.floor(stdioBare.length / 2)] ?? 0) * 1000) / options.perRound),
  };
  await provider.shutdown();
  return {
    description: `tools/call over InMemoryTransport, ${options.perRound} calls per sample, one task per sample, tracing on (BatchSpanProcessor)`,
    ...memory,
    stdio: {
      description: `tools/call of server-everything's echo over stdio (one child process, one client; bare: called outside a task), ${options.perRound} calls per sample, ${options.stdioRounds} rounds`,
      ...stdio,
    },
  };
}
