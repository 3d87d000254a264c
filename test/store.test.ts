import * as realFs from "node:fs";
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tool } from "@langchain/core/tools";
import { Annotation, START, StateGraph } from "@langchain/langgraph";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { afterEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { wrapGraph } from "../adapters/langgraph/index.js";
import { ScriptedChatModel } from "../adapters/testing/index.js";
import { isAgentWardenError, readStore, Warden } from "../src/index.js";
import { user } from "./support/agents.js";

/**
 * The disk as the store writer sees it: `partial` makes the next write put half its bytes down and
 * the one after fail with ENOSPC (a disk that fills up mid-line); anything else is the real disk.
 */
const disk = vi.hoisted(() => ({ state: "ok" as "ok" | "partial" | "full" }));
vi.mock("node:fs", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs")>();
  const writeSync = ((fd: number, buffer: Uint8Array, offset?: number, length?: number, ...rest: never[]) => {
    if (disk.state === "partial") {
      disk.state = "full";
      return fs.writeSync(fd, buffer, offset, Math.floor((length ?? buffer.length) / 2));
    }
    if (disk.state === "full") {
      disk.state = "ok";
      throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
    }
    return fs.writeSync(fd, buffer, offset, length, ...rest);
  }) as typeof fs.writeSync;
  return { ...fs, default: { ...fs, writeSync }, writeSync };
});

afterEach(() => {
  disk.state = "ok";
});

const tmp = () => mkdtempSync(join(tmpdir(), "aw-store-"));

/** A one-node workflow: each invoke is one task, named by its input. */
function counter(warden: Warden) {
  const graph = new StateGraph(Annotation.Root({ x: Annotation<number>() }))
    .addNode("inc", (s) => ({ x: s.x + 1 }))
    .addEdge(START, "inc")
    .compile();
  return wrapGraph(graph, { warden, name: "counter" });
}

const lines = (path: string) => readFileSync(path, "utf8").split("\n");

describe("a partial line never swallows the next task", () => {
  it("a restarted writer starts on a fresh line after a fragment left by a crash", async () => {
    const path = join(tmp(), "runs.jsonl");
    const first = new Warden({ tracing: false, store: path });
    await counter(first).invoke({ x: 1 }, { configurable: { thread_id: "a" } });
    await first.shutdown();
    // The process died mid-write: half a line, no newline.
    appendFileSync(path, '{"v":1,"id":"crashed","agent":"coun');

    const restarted = new Warden({ tracing: false, store: path });
    await counter(restarted).invoke({ x: 1 }, { configurable: { thread_id: "b" } });
    await restarted.shutdown();

    expect(lines(path)[1]).toBe('{"v":1,"id":"crashed","agent":"coun');
    const read = readStore(path);
    expect(read.summaries.map((s) => s.conversationId)).toEqual(["a", "b"]);
    expect(read.errors).toHaveLength(1);
    expect(read.errors[0]?.line).toBe(2);
    expect(read.errors[0]?.message).toMatch(/^not JSON/);
  });

  it("after a write that failed mid-line (disk full), the next task starts on a fresh line", async () => {
    const path = join(tmp(), "runs.jsonl");
    const errors: string[] = [];
    const warden = new Warden({ tracing: false, store: path, onError: (_e, source) => errors.push(source) });
    const graph = counter(warden);
    disk.state = "partial";
    await graph.invoke({ x: 1 }, { configurable: { thread_id: "lost" } }); // the agent is unaffected
    expect(disk.state).toBe("ok");
    expect(errors).toEqual(["subscriber:store"]);
    await graph.invoke({ x: 1 }, { configurable: { thread_id: "kept" } });
    await warden.shutdown();

    const text = lines(path);
    expect(text).toHaveLength(3); // fragment, the kept task, and the empty string after the last newline
    expect(text[0]?.startsWith('{"v":1,')).toBe(true);
    expect(text[2]).toBe("");
    const read = readStore(path);
    expect(read.summaries.map((s) => s.conversationId)).toEqual(["kept"]);
    expect(read.errors.map((e) => e.line)).toEqual([1]);
    expect(warden.stats().telemetryErrors).toEqual({ "subscriber:store": 1 });
  });

  it("the reader still finds a whole summary glued to a fragment (a file written before this fix)", async () => {
    const dir = tmp();
    const source = join(dir, "source.jsonl");
    const warden = new Warden({ tracing: false, store: source });
    await counter(warden).invoke({ x: 1 }, { configurable: { thread_id: "glued" } });
    await warden.shutdown();
    const path = join(dir, "runs.jsonl");
    writeFileSync(path, `{"v":1,"id":"crashed","agent":"coun${readFileSync(source, "utf8")}`);
    const read = readStore(path);
    expect(read.summaries.map((s) => s.conversationId)).toEqual(["glued"]);
    expect(read.errors).toEqual([
      { line: 1, message: "truncated line (no newline) followed by a whole summary: the fragment skipped" },
    ]);
  });
});

describe("a store location that cannot be written", () => {
  it("fails at construction with an error naming the store option, the path and the cause", () => {
    const dir = tmp();
    const file = join(dir, "not-a-dir");
    writeFileSync(file, "x");
    // Deterministic even for root (chmod does not stop root): a parent that is a regular file.
    const cases: Array<[string, string, string]> = [
      [join(file, "runs.jsonl"), "EEXIST", `EEXIST: file already exists, mkdir '${file}'`],
      [join(file, "sub", "runs.jsonl"), "ENOTDIR", `ENOTDIR: not a directory, mkdir '${join(file, "sub")}'`],
      [join(dir, "a-dir"), "EISDIR", `EISDIR: illegal operation on a directory, open '${join(dir, "a-dir")}'`],
      // Where the kernel refuses directories: Node's recursive mkdirSync never returned here.
      [
        "/proc/agentwarden-nope/runs.jsonl",
        "ENOENT",
        "ENOENT: no such file or directory, mkdir '/proc/agentwarden-nope'",
      ],
    ];
    mkdirSync(join(dir, "a-dir"));
    for (const [path, code, cause] of cases) {
      let thrown: unknown;
      try {
        new Warden({ tracing: false, store: path });
      } catch (error) {
        thrown = error;
      }
      expect(isAgentWardenError(thrown)).toBe(true);
      const e = thrown as Error & { code: string; data: unknown; cause: { code?: string } };
      expect(e.code).toBe("STORE_UNAVAILABLE");
      expect(e.message).toBe(
        `agentwarden: option store cannot be opened for appending: ${JSON.stringify(path)} (${cause}). Give a writable path, or leave store unset.`,
      );
      expect(e.data).toEqual({ path, cause: code });
      expect(e.cause.code).toBe(code);
    }
    // Nothing was left open or created by the failed constructions.
    expect(realFs.readdirSync(dir).sort()).toEqual(["a-dir", "not-a-dir"]);
  });
});

describe("figures no reader takes", () => {
  it("a task with absurd usage or an absurd tool cost is written with its sums held at 2^53 − 1, and reads", async () => {
    const dir = mkdtempSync(join(tmpdir(), "aw-store-huge-"));
    const store = join(dir, "runs.jsonl");
    const echo = tool(async ({ q }: { q: string }) => q, {
      name: "echo",
      description: "Echoes.",
      schema: z.object({ q: z.string() }),
    });
    const warden = new Warden({ tracing: false, store, toolCosts: { echo: 1e300 } });
    // Two calls whose input tokens, each a safe integer, sum past 2^53 − 1.
    const llm = new ScriptedChatModel({
      script: [
        { toolCalls: [{ name: "echo", args: { q: "a" } }], usage: { input: Number.MAX_SAFE_INTEGER, output: 1 } },
        { content: "ok", usage: { input: 1, output: 1 } },
      ],
    });
    await wrapGraph(createReactAgent({ llm, tools: [echo] }), { warden }).invoke(user("q"));
    await warden.shutdown();
    const read = readStore(store);
    expect(read.errors).toEqual([]);
    const [s] = read.summaries;
    expect(s?.tokens.input).toBe(Number.MAX_SAFE_INTEGER);
    expect(s?.costUsd).toBe(Number.MAX_SAFE_INTEGER);
    expect(s?.tools.echo?.costUsd).toBe(Number.MAX_SAFE_INTEGER);
  });
});
