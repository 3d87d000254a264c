import { mkdirSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { join } from "node:path";
import { context } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import { Warden } from "agentwarden";
import { wrapGraph } from "agentwarden/langgraph";
import { input, scriptedReactAgent } from "./react.js";

/**
 * Where agentwarden's overhead goes: CPU profiles (V8's sampling profiler, 100 µs) of the 10-step
 * benchmark agent, bare and wrapped (tracing to memory, metrics, limits, loop detection), in phases
 * of `RUNS` runs that alternate `ROUNDS` times in one process; self time summed by where the code
 * lives, per run, wrapped minus bare. `npm run build && TSX_TSCONFIG_PATH=bench/tsconfig.json npx
 * tsx bench/profile.ts [dir]` (the profiles are written to dir, default a temp folder).
 */
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({
  spanProcessors: [new BatchSpanProcessor(exporter, { maxQueueSize: 100_000, scheduledDelayMillis: 50 })],
});
const RUNS = 150;
const ROUNDS = Number(process.env.ROUNDS ?? 10);
const dir = process.argv[2] ?? join(process.env.TMPDIR ?? "/tmp", `agentwarden-profile-${process.pid}`);
mkdirSync(dir, { recursive: true });

const graphs = {
  bare: scriptedReactAgent(10),
  wrapped: wrapGraph(scriptedReactAgent(10), {
    warden: new Warden({ tracerProvider: provider, limits: { maxCostUsd: 5, maxSteps: 500 } }),
  }),
};
const session = new Session();
session.connect();
await session.post("Profiler.enable");
await session.post("Profiler.setSamplingInterval", { interval: 100 });
for (let i = 0; i < 20; i++) for (const g of Object.values(graphs)) await g.invoke(input);

interface Profile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string } }>;
  samples: number[];
  timeDeltas: number[];
}
const selfTime = { bare: new Map<string, number>(), wrapped: new Map<string, number>() };
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, graph] of Object.entries(graphs)) {
    exporter.reset();
    await session.post("Profiler.start");
    for (let i = 0; i < RUNS; i++) await graph.invoke(input);
    const { profile } = (await session.post("Profiler.stop")) as unknown as { profile: Profile };
    writeFileSync(join(dir, `${name}-${round}.cpuprofile`), JSON.stringify(profile));
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const times = selfTime[name as keyof typeof selfTime];
    profile.samples.forEach((id, i) => {
      const frame = byId.get(id)?.callFrame;
      if (!frame) return;
      const where = group(frame.url, frame.functionName);
      if (where) times.set(where, (times.get(where) ?? 0) + (profile.timeDeltas[i] ?? 0));
    });
  }
}
const runs = RUNS * ROUNDS;
const rows = [...new Set([...selfTime.bare.keys(), ...selfTime.wrapped.keys()])]
  .map((k) => [k, ((selfTime.wrapped.get(k) ?? 0) - (selfTime.bare.get(k) ?? 0)) / runs] as const)
  .sort((a, b) => b[1] - a[1]);
const total = rows.reduce((s, [, v]) => s + v, 0);
console.log(
  JSON.stringify({
    dir,
    runsPerVariant: runs,
    addedUsPerRun: Math.round(total),
    byWhere: Object.fromEntries(rows.map(([k, v]) => [k, Math.round(v)])),
  }),
);

/** Where a frame's code lives; undefined for idle time and the profiler's own work. */
function group(url: string, fn: string): string | undefined {
  if (fn === "(idle)" || fn === "(program)" || (fn === "dispatch" && !url)) return undefined;
  if (fn === "(garbage collector)") return "garbage collection";
  if (/node_modules/.test(url)) {
    if (/sdk-trace|opentelemetry\/core|opentelemetry\/resources/.test(url)) return "OpenTelemetry SDK (spans)";
    if (/opentelemetry\/api/.test(url)) return "OpenTelemetry API (contexts)";
    if (/langsmith|@langchain/.test(url)) return "LangChain and LangGraph";
    return "other libraries";
  }
  if (/adapters\/langgraph\/scope/.test(url)) return "agentwarden: step scope";
  if (/adapters\/testing/.test(url)) return "scripted model";
  if (/adapters\/langgraph\/(chat|instrument|messages)/.test(url)) return "agentwarden: model funnel";
  if (/adapters\/langgraph\/(tools|funnel)/.test(url)) return "agentwarden: tool funnel";
  if (/adapters\/langgraph/.test(url)) return "agentwarden: graph and node wrappers";
  if (/src\/telemetry/.test(url)) return "agentwarden: tracing subscriber";
  if (/src\/(metrics|store|quality)/.test(url)) return "agentwarden: metrics and task summary";
  if (/src\/policies/.test(url)) return "agentwarden: limits and loop detector";
  if (/(src|dist)\//.test(url)) return "agentwarden: ledger and hub";
  if (/async_hooks/.test(url)) return "AsyncLocalStorage propagation";
  return "Node internals (promises, abort signals, crypto)";
}
