import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tool } from "@langchain/core/tools";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { wrapGraph } from "../adapters/langgraph/index.js";
import { ScriptedChatModel } from "../adapters/testing/index.js";
import { readStore, type TaskSummary, Warden } from "../src/index.js";
import { canonical } from "../src/policies/loops.js";
import { user } from "./support/agents.js";

/** Names an agent or an MCP server may choose that are also properties of every plain object. */
const NAMES = ["__proto__", "constructor", "toString", "hasOwnProperty"] as const;

/** Own property names of the objects a write through such a name would reach. */
function prototypeState(): string {
  const of = (o: object) => Object.getOwnPropertyNames(o).sort().join(",");
  return JSON.stringify([
    of(Object.prototype),
    of(Object),
    of(Object.prototype.toString),
    of(Object.prototype.hasOwnProperty),
    of(Function.prototype),
  ]);
}

/** An own, enumerable property of `table` (never one inherited from Object.prototype). */
function own<T>(table: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

/**
 * A ReAct agent named `name` whose model is named `name` and calls a tool named `name` five times,
 * each time with a different value under the argument key `name`, then answers. Each model turn
 * reports 10 input and 5 output tokens; the model has no price.
 */
async function runNamed(warden: Warden, name: string) {
  const seen: string[] = [];
  const named = tool(
    async () => {
      seen.push("ran");
      return "ok";
    },
    { name, description: "A tool with an unlucky name.", schema: z.record(z.string(), z.string()) },
  );
  // Parsed, so that the key is an own property even when it is "__proto__".
  const argsWith = (value: string) => JSON.parse(`{"${name}": "${value}"}`) as Record<string, unknown>;
  const llm = new ScriptedChatModel({
    model: name,
    script: [
      ...["v1", "v2", "v3", "v4", "v5"].map((v) => ({ toolCalls: [{ name, args: argsWith(v) }] })),
      { content: "done" },
    ],
  });
  const agent = wrapGraph(createReactAgent({ llm, tools: [named] }), { warden, name });
  const out = await agent.invoke(user("go"));
  return { out, seen };
}

describe("names and keys from agents never reach an object's prototype", () => {
  it("canonical call keys keep __proto__, constructor and friends: different arguments are different calls", () => {
    for (const name of NAMES) {
      const a = JSON.parse(`{"${name}": "a", "q": 1}`);
      const b = JSON.parse(`{"${name}": "b", "q": 1}`);
      expect(canonical(a)).not.toBe(canonical(b));
      // Keys sorted: "toString" comes after "q", the others before it.
      expect(canonical(a)).toBe(name === "toString" ? `{"q":1,"${name}":"a"}` : `{"${name}":"a","q":1}`);
    }
  });

  for (const name of NAMES) {
    it(`${name} as agent, model, tool name and argument key: summary, metrics, store and loop detection are right`, async () => {
      const before = prototypeState();
      const store = join(mkdtempSync(join(tmpdir(), "aw-names-")), "runs.jsonl");
      const warden = new Warden({ tracing: false, store });
      const ended: TaskSummary[] = [];
      warden.onTaskEnd((run) => ended.push(run.summary()));
      const { seen } = await runNamed(warden, name);
      await warden.shutdown();

      // Five different calls: none taken for a loop, all five ran.
      expect(seen).toEqual(["ran", "ran", "ran", "ran", "ran"]);
      expect(ended).toHaveLength(1);
      const s = ended[0] as TaskSummary;
      expect(s.agent).toBe(name);
      expect(s.outcome).toBe("success");
      expect(Object.keys(s.tools)).toEqual([name]);
      expect(own(s.tools, name)).toMatchObject({ calls: 5, completed: 5, failures: 0, recovered: 0, costUsd: 0 });
      expect(Object.keys(s.models)).toEqual([name]);
      // Six model turns of 10 + 5 tokens, none priced.
      expect(own(s.models, name)).toMatchObject({
        calls: 6,
        failures: 0,
        tokens: { input: 60, output: 30, cacheRead: 0, cacheWrite: 0 },
        costUsd: 0,
        costUnknownCalls: 6,
      });
      expect(s.subtasks).toBe(5);
      expect(s.completedSubtasks).toBe(5);

      const m = warden.metrics?.snapshot();
      if (!m) throw new Error("metrics are on by default");
      expect(Object.keys(m.byAgent)).toEqual([name]);
      expect(own(m.byAgent, name)?.totals.tasks).toBe(1);
      expect(Object.keys(m.byTool)).toEqual([name]);
      expect(own(m.byTool, name)?.calls).toBe(5);
      expect(Object.keys(m.byModel)).toEqual([name]);
      expect(own(m.byModel, name)?.calls).toBe(6);
      expect(m.cumulative.totals.tasks).toBe(1);

      const read = readStore(store);
      expect(read.errors).toEqual([]);
      expect(read.summaries).toHaveLength(1);
      const line = read.summaries[0] as TaskSummary;
      expect(line.agent).toBe(name);
      expect(own(line.tools, name)?.calls).toBe(5);
      expect(own(line.models, name)?.calls).toBe(6);

      // Nothing reached a prototype: options are still validated as before.
      expect(prototypeState()).toBe(before);
      expect(() => new Warden({ tracing: false, loops: { repeats: 3 } })).not.toThrow();
    });
  }
});
