import { tool } from "@langchain/core/tools";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import {
  AggregationTemporality,
  type DataPoint,
  type Histogram,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { wrapGraph } from "../adapters/langgraph/index.js";
import { ScriptedChatModel } from "../adapters/testing/index.js";
import { Warden } from "../src/index.js";
import { user } from "./support/agents.js";

const MAX_KEYS = 3;
const N = 8;

/**
 * Agent i (named agent-i) has its own model (model-i) and tool (tool-i): it calls the tool once,
 * then answers. Two model turns of 10 input and 5 output tokens each; no model is priced.
 */
async function runAgent(warden: Warden, i: number) {
  const t = tool(async () => "ok", { name: `tool-${i}`, description: "A tool.", schema: z.object({}) });
  const llm = new ScriptedChatModel({
    model: `model-${i}`,
    script: [{ toolCalls: [{ name: `tool-${i}`, args: {} }] }, { content: "done" }],
  });
  await wrapGraph(createReactAgent({ llm, tools: [t] }), { warden, name: `agent-${i}` }).invoke(user("go"));
}

describe("OpenTelemetry instruments are bounded like the in-process tables", () => {
  it(`${N} agent, tool and model names with maxKeys ${MAX_KEYS}: ${MAX_KEYS} names and _other per attribute`, async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
    const meterProvider = new MeterProvider({ readers: [reader] });
    const warden = new Warden({ tracing: false, meterProvider, metrics: { maxKeys: MAX_KEYS } });
    for (let i = 0; i < N; i++) await runAgent(warden, i);
    await reader.forceFlush();
    const metrics = exporter.getMetrics().flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics));
    const points = (name: string) => {
      const m = metrics.find((x) => x.descriptor.name === name);
      if (!m) throw new Error(`no metric ${name}`);
      return m.dataPoints as DataPoint<number | Histogram>[];
    };
    /** Value (a counter's sum, a histogram's count) by the given attribute, summed over the other attributes. */
    const by = (name: string, attribute: string, where: Record<string, string> = {}) => {
      const out: Record<string, number> = {};
      for (const p of points(name)) {
        if (!Object.entries(where).every(([k, v]) => p.attributes[k] === v)) continue;
        const key = String(p.attributes[attribute]);
        const v = typeof p.value === "number" ? p.value : p.value.count;
        out[key] = (out[key] ?? 0) + v;
      }
      return out;
    };
    // The first three names seen keep their own series; the other five share _other.
    const names = (prefix: string, each: number, other: number) => ({
      [`${prefix}-0`]: each,
      [`${prefix}-1`]: each,
      [`${prefix}-2`]: each,
      _other: other,
    });

    // One task per agent.
    expect(by("agentwarden.tasks", "agent")).toEqual(names("agent", 1, 5));
    expect(points("agentwarden.tasks")).toHaveLength(MAX_KEYS + 1);
    // One tool call per agent, each completed.
    expect(by("agentwarden.subtasks", "agent")).toEqual(names("agent", 1, 5));
    expect(by("agentwarden.subtasks", "tool")).toEqual(names("tool", 1, 5));
    expect(by("agentwarden.subtasks.completed", "tool")).toEqual(names("tool", 1, 5));
    // Two model turns per agent: 20 input, 10 output tokens, two unpriced calls.
    expect(by("agentwarden.tokens", "model", { type: "input" })).toEqual(names("model", 20, 100));
    expect(by("agentwarden.tokens", "model", { type: "output" })).toEqual(names("model", 10, 50));
    expect(by("agentwarden.tokens", "agent", { type: "input" })).toEqual(names("agent", 20, 100));
    expect(by("agentwarden.cost.unknown_calls", "model")).toEqual(names("model", 2, 10));
    // The GenAI instruments, per step.
    expect(by("gen_ai.client.inference.duration", "gen_ai.request.model")).toEqual(names("model", 2, 10));
    expect(by("gen_ai.client.inference.usage.input_tokens", "gen_ai.request.model")).toEqual(names("model", 20, 100));
    expect(by("gen_ai.client.inference.usage.output_tokens", "gen_ai.request.model")).toEqual(names("model", 10, 50));
    expect(by("gen_ai.execute_tool.duration", "gen_ai.tool.name")).toEqual(names("tool", 1, 5));
    expect(by("gen_ai.invoke_agent.duration", "gen_ai.agent.name")).toEqual(names("agent", 1, 5));

    // Every name attribute of every instrument: exactly maxKeys + 1 values.
    for (const m of metrics)
      for (const attribute of [
        "agent",
        "tool",
        "model",
        "gen_ai.request.model",
        "gen_ai.response.model",
        "gen_ai.tool.name",
        "gen_ai.agent.name",
      ]) {
        const values = new Set(m.dataPoints.map((p) => p.attributes[attribute]).filter((v) => v !== undefined));
        if (values.size > 0)
          expect([m.descriptor.name, attribute, values.size]).toEqual([m.descriptor.name, attribute, MAX_KEYS + 1]);
      }
    // The in-process tables fold the same names.
    const snap = warden.metrics?.snapshot();
    expect(Object.keys(snap?.byAgent ?? {})).toEqual(["agent-0", "agent-1", "agent-2", "_other"]);
    expect(Object.keys(snap?.byTool ?? {})).toEqual(["tool-0", "tool-1", "tool-2", "_other"]);
    expect(Object.keys(snap?.byModel ?? {})).toEqual(["model-0", "model-1", "model-2", "_other"]);
    await meterProvider.shutdown();
  });

  it(`${N} error types (from the errors' names, which a tool chooses) with maxKeys ${MAX_KEYS}: ${MAX_KEYS} and _other`, async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
    const meterProvider = new MeterProvider({ readers: [reader] });
    const warden = new Warden({ tracing: false, meterProvider, metrics: { maxKeys: MAX_KEYS } });
    const failing = tool(
      async ({ i }: { i: number }) => {
        const e = new Error("failed");
        e.name = `Failure${i}`;
        throw e;
      },
      { name: "failing", description: "Fails.", schema: z.object({ i: z.number() }) },
    );
    const llm = new ScriptedChatModel({
      model: "m",
      script: [
        ...Array.from({ length: N }, (_, i) => ({ toolCalls: [{ name: "failing", args: { i } }] })),
        { content: "gave up" },
      ],
    });
    await wrapGraph(createReactAgent({ llm, tools: [failing] }), { warden, name: "a" }).invoke(user("go"));
    await reader.forceFlush();
    const tools = exporter
      .getMetrics()
      .flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics))
      .find((m) => m.descriptor.name === "gen_ai.execute_tool.duration");
    const counts: Record<string, number> = {};
    for (const p of tools?.dataPoints ?? []) {
      const key = String(p.attributes["error.type"]);
      counts[key] = (counts[key] ?? 0) + (p.value as Histogram).count;
    }
    expect(counts).toEqual({ Failure0: 1, Failure1: 1, Failure2: 1, _other: 5 });
    await meterProvider.shutdown();
  });
});

describe("token sums keyed by untrusted names", () => {
  it("provider and model names that join to the same text stay separate series", async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
    const meterProvider = new MeterProvider({ readers: [reader] });
    const warden = new Warden({ tracing: false, meterProvider });
    // "p" + "x\0x" and "p\0x\0x" + "x": joined with NUL separators, both read p␀x␀x␀x␀x.
    for (const [provider, model, input] of [
      ["p", "x\u0000x", 10],
      ["p\u0000x\u0000x", "x", 20],
    ] as const) {
      const llm = new ScriptedChatModel({
        provider,
        model,
        script: [{ content: "done", usage: { input, output: 1 } }],
      });
      await wrapGraph(createReactAgent({ llm, tools: [] }), { warden }).invoke(user("go"));
    }
    await reader.forceFlush();
    const metric = exporter
      .getMetrics()
      .flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics))
      .find((m) => m.descriptor.name === "gen_ai.client.inference.usage.input_tokens");
    const points = (metric?.dataPoints ?? []).map((p) => [
      p.attributes["gen_ai.provider.name"],
      p.attributes["gen_ai.request.model"],
      p.value,
    ]);
    expect(points).toEqual([
      ["p", "x\u0000x", 10],
      ["p\u0000x\u0000x", "x", 20],
    ]);
    await meterProvider.shutdown();
  });
});
