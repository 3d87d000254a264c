import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { context } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import { runInStep, Warden } from "agentwarden";
import { instrumentMcpClient } from "agentwarden/mcp";
import { z } from "zod";
import { spanned } from "./floor.js";
import { interleave, type RatioFigure, ratios } from "./harness.js";
import { spanShapes } from "./peers.js";

export interface McpFigures {
  description: string;
  /** Per-call time, instrumented client / bare client, over the in-memory transport. */
  ratio: RatioFigure;
  /**
   * The live floor, no agentwarden: the bare client, each call in a span made live (started under
   * the active span, active during the call, ended after) with the attributes and status
   * agentwarden records for it (bench/floor.ts). What the span alone costs a tracer.
   */
  floorRatio: RatioFigure;
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
  // The context manager an application's OpenTelemetry SDK registers (NodeSDK does): spans made
  // active reach the code they wrap.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new BatchSpanProcessor(exporter, { maxQueueSize: 100_000 })],
  });
  const warden = new Warden({ tracerProvider: provider });
  // The span agentwarden records for one call, for the floor.
  const probe = instrumentMcpClient(await pair());
  const probeRun = warden.startTask("workflow", { name: "mcp_bench" });
  await runInStep(probeRun.root, () => probe.callTool({ name: "echo", arguments: { text: "hi" } }));
  probeRun.end(probeRun.root, "ok");
  await provider.forceFlush();
  const shape = spanShapes(exporter.getFinishedSpans())[0]?.children[0];
  if (!shape || shape.children.length > 0) throw new Error("mcp: expected one tool call span under the task's");
  await probe.close();
  exporter.reset();
  const floorTracer = provider.getTracer("live-floor");
  // Both clients are called from inside a task, as an agent would call them: one task per sample.
  const measure = async (bare: Client, floor: Client, instrumented: Client, rounds: number, tool: string) => {
    const call =
      (client: Client, live = false) =>
      async () => {
        const run = warden.startTask("workflow", { name: "mcp_bench" });
        await runInStep(run.root, async () => {
          for (let i = 0; i < options.perRound; i++) {
            const one = () => client.callTool({ name: tool, arguments: { text: "hi" } });
            await (live ? spanned(floorTracer, shape, one) : one());
          }
        });
        run.end(run.root, "ok");
        if (exporter.getFinishedSpans().length > 5000) exporter.reset();
      };
    const times = await interleave(
      [
        { name: "bare", run: call(bare) },
        { name: "floor", run: call(floor, true) },
        { name: "instrumented", run: call(instrumented) },
      ],
      { rounds, perRound: 1, warmup: 5 },
    );
    await bare.close();
    await floor.close();
    await instrumented.close();
    const sorted = [...(times.bare ?? [])].sort((x, y) => x - y);
    return {
      ratio: ratios(times, "instrumented", "bare"),
      floorRatio: ratios(times, "floor", "bare"),
      bareUsPerCallMedian: Math.round(((sorted[Math.floor(sorted.length / 2)] ?? 0) * 1000) / options.perRound),
    };
  };
  const memory = await measure(await pair(), await pair(), instrumentMcpClient(await pair()), options.rounds, "echo");
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
    description: `tools/call over InMemoryTransport, ${options.perRound} calls per sample, one task per sample, tracing on (BatchSpanProcessor); floorRatio: the bare client with a live span per call (no agentwarden)`,
    ...memory,
    stdio: {
      description: `tools/call of server-everything's echo over stdio (one child process, one client; bare: called outside a task), ${options.perRound} calls per sample, ${options.stdioRounds} rounds`,
      ...stdio,
    },
  };
}
