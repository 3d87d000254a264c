/*
 * The tracing subscriber's `activate` is called without the Hub's guard (src/hub.ts "trusted"): a
 * context manager that throws must still not reach the agent. Its own file: it installs a global
 * context manager.
 */

import { Annotation, START, StateGraph } from "@langchain/langgraph";
import { type Context, type ContextManager, context, ROOT_CONTEXT } from "@opentelemetry/api";
import { afterAll, describe, expect, it } from "vitest";
import { wrapGraph } from "../adapters/langgraph/index.js";
import { Warden } from "../src/index.js";
import { memoryTracing } from "./support/otel.js";

/** A context manager whose `with` fails (a broken or half-torn-down APM agent). */
class FailingContextManager implements ContextManager {
  active(): Context {
    return ROOT_CONTEXT;
  }
  with(): never {
    throw new Error("context manager failure");
  }
  bind<T>(_context: Context, target: T): T {
    return target;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    return this;
  }
}

describe("a failing OpenTelemetry context manager (Hub.activate, trusted tracing subscriber)", () => {
  afterAll(() => {
    context.disable();
  });

  it("is reported as a telemetry failure; the graph still runs and returns its result", async () => {
    const { provider } = memoryTracing();
    context.disable();
    context.setGlobalContextManager(new FailingContextManager());
    const reported: string[] = [];
    const warden = new Warden({ tracerProvider: provider, onError: (_e, source) => reported.push(source) });
    const S = Annotation.Root({ out: Annotation<string>() });
    const graph = new StateGraph(S)
      .addNode("work", async () => ({ out: "done" }))
      .addEdge(START, "work")
      .compile({ name: "g" });
    expect((await wrapGraph(graph, { warden }).invoke({})).out).toBe("done");
    expect(reported.length).toBeGreaterThan(0);
  });
});
