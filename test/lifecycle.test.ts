import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Annotation, START, StateGraph } from "@langchain/langgraph";
import type { ExportResult } from "@opentelemetry/core";
import { BasicTracerProvider, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterEach, describe, expect, it, vi } from "vitest";
import { wrapGraph } from "../adapters/langgraph/index.js";
import {
  DEFAULT_FLUSH_TIMEOUT_MS,
  guardExporter,
  isAgentWardenError,
  MAX_TIMER_MS,
  readStore,
  type Subscriber,
  Warden,
} from "../src/index.js";
import { useContextManager } from "./support/otel.js";

afterEach(() => {
  vi.useRealTimers();
});

function counter(warden: Warden) {
  const graph = new StateGraph(Annotation.Root({ x: Annotation<number>() }))
    .addNode("inc", (s) => ({ x: s.x + 1 }))
    .addEdge(START, "inc")
    .compile();
  return wrapGraph(graph, { warden, name: "counter" });
}

describe("the wall-time limit", () => {
  it("rejects a maxDurationMs a timer cannot hold (2^31 ms or more), on the Warden and per invoke", async () => {
    expect(() => new Warden({ limits: { maxDurationMs: 2 ** 31 } })).toThrow(
      new RangeError(
        "agentwarden: option limits.maxDurationMs is invalid: Too big: expected number to be <=2147483647 (got 2147483648)",
      ),
    );
    const warden = new Warden({ tracing: false, limits: { maxDurationMs: 2 ** 31 - 1 } });
    const graph = counter(warden);
    expect((await graph.invoke({ x: 1 })).x).toBe(2); // the largest one does not trip at once
    await expect(
      graph.invoke({ x: 1 }, { configurable: { agentwarden: { limits: { maxDurationMs: 2 ** 31 } } } }),
    ).rejects.toThrow(
      new RangeError(
        "agentwarden: option configurable.agentwarden.limits.maxDurationMs is invalid: Too big: expected number to be <=2147483647 (got 2147483648)",
      ),
    );
    expect(MAX_TIMER_MS).toBe(2 ** 31 - 1);
  });

  it("keeps a process whose only work is an open task alive until the limit trips, and records the trip", () => {
    const store = join(mkdtempSync(join(tmpdir(), "aw-open-")), "runs.jsonl");
    const out = execFileSync(
      "node_modules/.bin/tsx",
      ["--conditions=agentwarden-source", "test/support/open-task.ts", store, "50"],
      { encoding: "utf8", timeout: 60_000 },
    );
    expect(out).toBe("rejected BREAKER_TRIP\n");
    const read = readStore(store);
    expect(read.errors).toEqual([]);
    expect(read.summaries).toHaveLength(1);
    expect(read.summaries[0]).toMatchObject({ agent: "waiter", outcome: "failure", trips: { time: 1 } });
  });
});

describe("flush and shutdown are bounded", () => {
  const hanging = (): Subscriber => ({
    name: "sink",
    forceFlush: () => new Promise<void>(() => {}),
    shutdown: () => new Promise<void>(() => {}),
  });

  it("give up on a subscriber that never settles after flushTimeoutMs (default 30 s), counting it", async () => {
    vi.useFakeTimers();
    const reported: Array<[string, string, unknown]> = [];
    const warden = new Warden({
      tracing: false,
      metrics: false,
      onError: (e, source) => {
        reported.push([source, (e as Error).message, isAgentWardenError(e) ? e.data : undefined]);
      },
    });
    warden.use(hanging());
    let flushed = false;
    const flush = warden.flush().then(() => {
      flushed = true;
    });
    await vi.advanceTimersByTimeAsync(29_999);
    expect(flushed).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await flush;
    let closed = false;
    const shutdown = warden.shutdown().then(() => {
      closed = true;
    });
    await vi.advanceTimersByTimeAsync(30_000);
    await shutdown;
    expect(closed).toBe(true);
    expect(reported).toEqual([
      [
        "flush:sink",
        "agentwarden: subscriber sink did not finish forceFlush within 30000 ms (flushTimeoutMs); given up",
        { subscriber: "sink", operation: "forceFlush", timeoutMs: 30_000 },
      ],
      [
        "shutdown:sink",
        "agentwarden: subscriber sink did not finish shutdown within 30000 ms (flushTimeoutMs); given up",
        { subscriber: "sink", operation: "shutdown", timeoutMs: 30_000 },
      ],
    ]);
    expect(warden.stats().telemetryErrors).toEqual({ "flush:sink": 1, "shutdown:sink": 1 });
    expect(DEFAULT_FLUSH_TIMEOUT_MS).toBe(30_000);
  });

  it("a SimpleSpanProcessor whose exporter never calls back (guarded) holds flush for flushTimeoutMs, not for ever", async () => {
    useContextManager();
    let exports = 0;
    const silent = {
      export(_spans: ReadableSpan[], _done: (result: ExportResult) => void) {
        exports++; // never calls back
      },
      shutdown: () => Promise.resolve(),
    };
    let warden: Warden | undefined;
    const exporter = guardExporter(silent, (e, source) => warden?.reportError(e, source));
    // The SDK's own bound on forceFlush (30 s by default) is set far beyond the test's.
    const provider = new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(exporter)],
      forceFlushTimeoutMillis: 3_600_000,
    });
    warden = new Warden({ tracerProvider: provider, metrics: false, flushTimeoutMs: 50, onError: () => {} });
    await counter(warden).invoke({ x: 1 });
    expect(exports).toBe(2); // the workflow's span and its node's, each exported on end
    await warden.flush();
    await warden.shutdown();
    expect(warden.stats().telemetryErrors).toEqual({ "flush:tracing": 1, "shutdown:tracing": 1 });
  });

  it("rejects a flushTimeoutMs that is not a positive timer value, naming the field", () => {
    expect(() => new Warden({ flushTimeoutMs: 0 })).toThrow(
      /^agentwarden: option flushTimeoutMs is invalid: Too small: expected number to be >=1 \(got 0\)$/,
    );
    expect(() => new Warden({ flushTimeoutMs: 2 ** 31 })).toThrow(RangeError);
    expect(() => new Warden({ flushTimeoutMs: "5s" as unknown as number })).toThrow(
      /^agentwarden: option flushTimeoutMs is invalid/,
    );
  });
});

describe("a subscriber's activate", () => {
  it("that throws after calling fn is reported; the invoke gets the agent's own result, nothing is abandoned", async () => {
    const reported: string[] = [];
    const warden = new Warden({ tracing: false, onError: (_e, source) => reported.push(source) });
    let calls = 0;
    warden.use({
      name: "after",
      activate<T>(_step: unknown, fn: () => T): T {
        fn();
        calls++;
        throw new Error("failed after running the work");
      },
    });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const graph = counter(warden);
      expect((await graph.invoke({ x: 1 })).x).toBe(2);
      // Let anything abandoned settle (it would reject with an AbortError).
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
    expect(unhandled).toEqual([]);
    expect(calls).toBeGreaterThan(0);
    expect(reported).toEqual(Array(calls).fill("subscriber:after"));
    expect(warden.stats()).toMatchObject({ tasksStarted: 1, tasksEnded: 1, openTasks: 0 });
  });

  it("that never calls fn, or calls it twice, still runs the work exactly once", async () => {
    for (const mode of ["never", "twice"] as const) {
      const reported: string[] = [];
      const warden = new Warden({ tracing: false, onError: (_e, source) => reported.push(source) });
      warden.use({
        name: mode,
        activate<T>(_step: unknown, fn: () => T): T {
          if (mode === "never") return undefined as T;
          fn();
          return fn();
        },
      });
      let runs = 0;
      const graph = new StateGraph(Annotation.Root({ x: Annotation<number>() }))
        .addNode("inc", (s) => {
          runs++;
          return { x: s.x + 1 };
        })
        .addEdge(START, "inc")
        .compile();
      expect((await wrapGraph(graph, { warden, name: "once" }).invoke({ x: 1 })).x).toBe(2);
      expect(runs).toBe(1);
      expect(reported.length).toBeGreaterThan(0);
      expect(new Set(reported)).toEqual(new Set([`subscriber:${mode}`]));
    }
  });
});
