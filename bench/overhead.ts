import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import { BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import { wrapGraph } from "../adapters/langgraph/index.js";
import { Warden } from "../src/index.js";
import { interleave, type RatioFigure, ratios } from "./harness.js";
import { input, scriptedReactAgent } from "./react.js";

class NoopHandler extends BaseCallbackHandler {
  name = "noop";
}

export interface OverheadFigures {
  description: string;
  /** agentwarden (tracing on, BatchSpanProcessor, in-memory exporter) / bare. */
  ratio: RatioFigure;
  /** agentwarden with tracing off (the ledger only) / bare. */
  ledgerOnlyRatio: RatioFigure;
  /** A LangChain callback handler that does nothing / bare: the cost of the callback mechanism alone. */
  noopCallbackRatio: RatioFigure;
  spansPerRun: number;
  bareMsPerRunMedian: number;
}

export async function overhead(options: { rounds: number; perRound: number }): Promise<OverheadFigures> {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [
      new BatchSpanProcessor(exporter, { maxQueueSize: 100_000, maxExportBatchSize: 512, scheduledDelayMillis: 50 }),
    ],
  });
  const warden = new Warden({ tracerProvider: provider });
  const bare = scriptedReactAgent(10);
  const wrapped = wrapGraph(scriptedReactAgent(10), { warden });
  const ledgerOnly = wrapGraph(scriptedReactAgent(10), { warden: new Warden({ tracing: false }) });
  const callbackGraph = scriptedReactAgent(10);
  const handler = new NoopHandler();

  // Spans per run, measured once.
  await wrapped.invoke(input);
  await provider.forceFlush();
  const spansPerRun = exporter.getFinishedSpans().length;
  exporter.reset();

  const times = await interleave(
    [
      { name: "bare", run: async () => void (await bare.invoke(input)) },
      {
        name: "agentwarden",
        run: async () => {
          await wrapped.invoke(input);
          // Spans are exported (to memory) and dropped, as a real exporter would: retaining them
          // all would charge the heap's growth to whichever variant runs when the GC does.
          if (exporter.getFinishedSpans().length > 2000) exporter.reset();
        },
      },
      { name: "ledger-only", run: async () => void (await ledgerOnly.invoke(input)) },
      { name: "noop-callback", run: async () => void (await callbackGraph.invoke(input, { callbacks: [handler] })) },
    ],
    { ...options, warmup: 3 },
  );
  await provider.forceFlush();
  exporter.reset();
  const bareSorted = [...(times.bare ?? [])].sort((a, b) => a - b);
  return {
    description:
      "10-step scripted ReAct run (createReactAgent, 10 tool-calling turns + answer), median ratio over interleaved rounds",
    ratio: ratios(times, "agentwarden", "bare"),
    ledgerOnlyRatio: ratios(times, "ledger-only", "bare"),
    noopCallbackRatio: ratios(times, "noop-callback", "bare"),
    spansPerRun,
    bareMsPerRunMedian: Math.round((bareSorted[Math.floor(bareSorted.length / 2)] ?? 0) * 100) / 100,
  };
}
