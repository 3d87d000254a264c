import { appendFileSync, existsSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { describe, expect, it, vi } from "vitest";
import {
  type DashboardData,
  type LiveEvent,
  type LiveFeed,
  MAX_LIVE_STREAMS,
  recordFeedback,
  StoreFollower,
  serveDashboard,
  Warden,
} from "../src/index.js";
import { GENERATED_T0, writeGeneratedStore } from "./support/stores.js";

interface Reply {
  status: number;
  type: string | undefined;
  body: string;
}

/** A GET with the headers given verbatim (fetch would not let a test set `Host`). */
function get(base: string, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: url.pathname + url.search, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        body += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, type: res.headers["content-type"], body }));
    });
    req.on("error", reject);
    req.end();
  });
}

const tmp = (name: string) => mkdtempSync(join(tmpdir(), `aw-dash-${name}-`));

describe("the dashboard answers only requests addressed to it (DNS rebinding)", () => {
  it("rejects a Host other than the bound loopback address and port, and a foreign Origin on the API", async () => {
    const store = join(tmp("host"), "runs.jsonl");
    writeGeneratedStore(store, 3);
    const dashboard = await serveDashboard(store, { port: 0 });
    try {
      const port = new URL(dashboard.url).port;
      // A page on rebind.example (resolving to 127.0.0.1) sends its own name as Host.
      for (const host of [
        `rebind.example:${port}`,
        "rebind.example",
        `localhost:${Number(port) + 1}`,
        `127.0.0.2:${port}`,
      ]) {
        for (const path of ["/", "/api/data", "/api/runs/run-0"]) {
          const r = await get(dashboard.url, path, { host });
          expect([r.status, r.body], `${host} ${path}`).toEqual([403, "agentwarden: host not allowed\n"]);
        }
      }
      for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`]) {
        expect((await get(dashboard.url, "/", { host })).status, host).toBe(200);
        expect((await get(dashboard.url, "/api/data", { host })).status, host).toBe(200);
      }
      // A cross-origin request to the API names its page's origin: refused.
      const host = `127.0.0.1:${port}`;
      for (const origin of ["http://rebind.example", `http://rebind.example:${port}`, "null"]) {
        const r = await get(dashboard.url, "/api/data", { host, origin });
        expect([r.status, r.body], origin).toEqual([403, "agentwarden: origin not allowed\n"]);
      }
      const same = await get(dashboard.url, "/api/data", { host, origin: `http://localhost:${port}` });
      expect(same.status).toBe(200);
      expect((JSON.parse(same.body) as DashboardData).runs).toHaveLength(3);
    } finally {
      await dashboard.close();
    }
  });

  it("bound to all interfaces, accepts IP literals and listed names, and still refuses other names", async () => {
    const store = join(tmp("any"), "runs.jsonl");
    writeGeneratedStore(store, 1);
    const dashboard = await serveDashboard(store, { port: 0, host: "0.0.0.0", allowedHosts: ["box.lan"] });
    try {
      const port = new URL(dashboard.url).port;
      const base = `http://127.0.0.1:${port}/`;
      for (const host of [`10.1.2.3:${port}`, `[fe80::1]:${port}`, `box.lan:${port}`, `localhost:${port}`]) {
        expect((await get(base, "/api/data", { host })).status, host).toBe(200);
      }
      expect((await get(base, "/api/data", { host: `rebind.example:${port}` })).status).toBe(403);
    } finally {
      await dashboard.close();
    }
  });
});

describe("the dashboard served from the agent's process (WardenOptions.dashboard)", () => {
  it("needs a store, validates its fields, and checks Host and Origin on its live stream too", async () => {
    expect(() => new Warden({ tracing: false, dashboard: true })).toThrow(
      new TypeError("agentwarden: option dashboard is invalid: it needs option store (the runs it shows)"),
    );
    const store = join(tmp("live"), "runs.jsonl");
    expect(() => new Warden({ tracing: false, store, dashboard: { port: -1 } })).toThrow(/option dashboard\.port/);
    expect(() => new Warden({ tracing: false, store, dashboard: { prot: 1 } as never })).toThrow(/dashboard\.prot/);
    // Off: no dashboard, nothing listening.
    expect(new Warden({ tracing: false, store, dashboard: false }).dashboard).toBeUndefined();
    const warden = new Warden({ tracing: false, store, dashboard: { port: 0 } });
    const dashboard = await warden.dashboard;
    try {
      if (!dashboard) throw new Error("no dashboard");
      const port = new URL(dashboard.url).port;
      const r = await get(dashboard.url, "/api/live", { host: `rebind.example:${port}` });
      expect([r.status, r.body]).toEqual([403, "agentwarden: host not allowed\n"]);
      const o = await get(dashboard.url, "/api/live", { host: `127.0.0.1:${port}`, origin: "http://rebind.example" });
      expect([o.status, o.body]).toEqual([403, "agentwarden: origin not allowed\n"]);
      const data = JSON.parse((await get(dashboard.url, "/api/data")).body) as DashboardData & { live: boolean };
      expect(data.live).toBe(true);
    } finally {
      await warden.shutdown();
    }
  });
});

describe("the live stream and clients that do not read it", () => {
  /** A live feed the test drives: its listeners, and a way to send them an event. */
  function feed(runs: LiveFeed["runs"] = () => []) {
    const listeners = new Set<(e: LiveEvent) => void>();
    const live: LiveFeed = {
      runs,
      onEvent: (listener) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    };
    const emit = (e: LiveEvent) => {
      for (const l of listeners) l(e);
    };
    return { live, listeners, emit };
  }

  /** Opens `/api/live` on a raw socket and stops reading it once the response has started. */
  async function stalledClient(url: string): Promise<Socket> {
    const { port } = new URL(url);
    const socket = connect(Number(port), "127.0.0.1");
    socket.on("error", () => {}); // the server may cut it (a reset): what the tests look at is the close
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.write(`GET /api/live HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    await new Promise((resolve) => socket.once("data", resolve)); // the headers and the hello
    socket.pause();
    return socket;
  }

  it("cuts off a client that stops reading once a megabyte of events waits for it, and lets go of it", async () => {
    const { live, listeners, emit } = feed();
    const dashboard = await serveDashboard(join(tmp("stall"), "runs.jsonl"), { port: 0, live });
    const socket = await stalledClient(dashboard.url);
    try {
      expect(listeners.size).toBe(1);
      const closed = new Promise((resolve) => socket.once("close", resolve));
      // 400 events of 64 KB (25 MB): more than the kernel's socket buffers take, so the rest waits
      // in the server's process; past 1 MB of it the stream is cut off.
      const message = "x".repeat(64 * 1024);
      for (let i = 0; i < 400; i++) {
        emit({
          type: "step",
          run: "r",
          i,
          step: { p: 0, k: "tool", n: "t", t: 0, d: 1, s: "error", e: { type: "E", message } },
        });
      }
      expect(listeners.size).toBe(0);
      socket.resume();
      await closed;
    } finally {
      socket.destroy();
      await dashboard.close();
    }
  });

  it("keeps a client that reads, while it takes a hello of many megabytes (many tasks in progress)", async () => {
    const steps = Array.from({ length: 2_000 }, (_, i) => ({
      p: 0,
      k: "tool" as const,
      n: `t${i}`,
      t: i,
      d: 1,
      s: "ok" as const,
    }));
    const runs = Array.from({ length: 40 }, (_, i) => ({ id: `r${i}`, agent: "a", start: 0, steps }));
    const { live, emit } = feed(() => runs);
    const dashboard = await serveDashboard(join(tmp("big-hello"), "runs.jsonl"), { port: 0, live });
    try {
      const res = await fetch(new URL("api/live", dashboard.url));
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      const decoder = new TextDecoder();
      let text = "";
      let emitted = false;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
        if (!emitted) {
          // The hello is still on its way (several MB): an event now is queued behind it.
          emit({ type: "end", run: "r0" });
          emitted = true;
        }
        if (text.endsWith('data: {"type":"end","run":"r0"}\n\n')) break;
      }
      expect(text.startsWith('data: {"type":"hello"')).toBe(true);
      expect(text.length).toBeGreaterThan(4_000_000);
      expect(text.endsWith('data: {"type":"end","run":"r0"}\n\n')).toBe(true);
      await reader.cancel();
    } finally {
      await dashboard.close();
    }
  });

  it("closes at once while a client is in the middle of a request", async () => {
    const { live } = feed();
    const dashboard = await serveDashboard(join(tmp("close"), "runs.jsonl"), { port: 0, live });
    const { port } = new URL(dashboard.url);
    const socket = connect(Number(port), "127.0.0.1");
    socket.on("error", () => {}); // closed by the server, possibly with a reset
    await new Promise((resolve) => socket.once("connect", resolve));
    // Half a request: the server waits for the rest of its headers (for up to a minute by default).
    socket.write(`GET /api/data HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`);
    const cut = new Promise((resolve) => socket.once("close", resolve));
    await dashboard.close();
    await cut;
    socket.destroy();
  });

  it("serves at most MAX_LIVE_STREAMS streams at once and answers 503 to one more", async () => {
    const { live, listeners } = feed();
    const dashboard = await serveDashboard(join(tmp("streams"), "runs.jsonl"), { port: 0, live });
    const sockets: Socket[] = [];
    try {
      for (let i = 0; i < MAX_LIVE_STREAMS; i++) sockets.push(await stalledClient(dashboard.url));
      expect(listeners.size).toBe(MAX_LIVE_STREAMS);
      const { port } = new URL(dashboard.url);
      const more = await get(dashboard.url, "/api/live", { host: `127.0.0.1:${port}` });
      expect([more.status, more.body]).toEqual([503, "agentwarden: too many live streams\n"]);
      // A stream that ends makes room.
      const one = sockets.pop() as Socket;
      one.destroy();
      await vi.waitFor(() => expect(listeners.size).toBe(MAX_LIVE_STREAMS - 1));
    } finally {
      for (const socket of sockets) socket.destroy();
      await dashboard.close();
    }
  });
});

describe("the dashboard when the store cannot be read", () => {
  it("answers a JSON error when the store path is a directory, and keeps serving", async () => {
    const dir = tmp("dir");
    const store = join(dir, "runs.jsonl");
    mkdirSync(store);
    const dashboard = await serveDashboard(store, { port: 0 });
    try {
      const r = await get(dashboard.url, "/api/data");
      expect(r.status).toBe(500);
      expect(r.type).toBe("application/json");
      expect(JSON.parse(r.body)).toEqual({ error: `cannot read store ${store}: not a file` });
      expect((await get(dashboard.url, "/api/runs/x")).status).toBe(500);
      expect((await get(dashboard.url, "/")).status).toBe(200);
    } finally {
      await dashboard.close();
    }
  });

  it("reads 200,000 unreadable lines: counts them all, shows the last 50", async () => {
    const store = join(tmp("bad"), "runs.jsonl");
    writeFileSync(store, "not json\n".repeat(200_000));
    const dashboard = await serveDashboard(store, { port: 0 });
    try {
      let data: DashboardData | undefined;
      while (!data || data.reading) {
        const r = await get(dashboard.url, "/api/data");
        expect(r.status).toBe(200);
        data = JSON.parse(r.body) as DashboardData;
      }
      expect(data.skippedCount).toBe(200_000);
      expect(data.skipped.map((s) => s.line)).toEqual(Array.from({ length: 50 }, (_, i) => 199_951 + i));
      expect(data.skipped[0]?.message).toMatch(/^not JSON/);
      expect(data.runs).toEqual([]);
    } finally {
      await dashboard.close();
    }
  });

  it("says so when there is no store at the path yet, then reads it once written", async () => {
    const store = join(tmp("missing"), "runs.jsonl");
    const dashboard = await serveDashboard(store, { port: 0 });
    try {
      const before = JSON.parse((await get(dashboard.url, "/api/data")).body) as DashboardData;
      expect(before.storeError).toBe(`no store at ${store} yet: waiting for the application to write it`);
      writeGeneratedStore(store, 2);
      const after = JSON.parse((await get(dashboard.url, "/api/data")).body) as DashboardData;
      expect(after.storeError).toBeUndefined();
      expect(after.runs.map((r) => r.id)).toEqual(["run-1", "run-0"]);
    } finally {
      await dashboard.close();
    }
  });
});

const CHROMIUM = "/usr/bin/chromium";

describe.skipIf(!existsSync(CHROMIUM))("the dashboard page when the store cannot be read", () => {
  it("shows why in a notice, in a real headless Chromium: no store yet, or a directory", async () => {
    const missing = join(tmp("page-missing"), "runs.jsonl");
    const directory = join(tmp("page-dir"), "runs.jsonl");
    mkdirSync(directory);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] });
    try {
      for (const [store, text] of [
        [missing, `no store at ${missing} yet: waiting for the application to write it`],
        [directory, `cannot read store ${directory}: not a file`],
      ] as const) {
        const dashboard = await serveDashboard(store, { port: 0 });
        try {
          const page = await browser.newPage();
          await page.goto(dashboard.url);
          const notice = page.locator('[data-testid="notice"]');
          await notice.waitFor({ state: "visible" });
          expect(await notice.textContent()).toBe(text);
          await page.close();
        } finally {
          await dashboard.close();
        }
      }
    } finally {
      await browser.close();
    }
  }, 60_000);
});

describe("the dashboard on a large store", () => {
  it("answers / and the runs read so far while it reads, then aggregates all of it, paging the run list", async () => {
    const store = join(tmp("large"), "runs.jsonl");
    writeGeneratedStore(store, 20_000, { pad: 300 }); // ~8 MB: several chunks
    // The reader pauses at its first chunk boundary until the test lets it go on.
    let reading!: () => void;
    const started = new Promise<void>((resolve) => {
      reading = resolve;
    });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let pauses = 0;
    const follower = new StoreFollower(store, {
      waitMs: 50,
      pause: async () => {
        if (pauses++ > 0) return;
        reading();
        await gate;
      },
    });
    const dashboard = await serveDashboard(follower, { port: 0 });
    try {
      const first = get(dashboard.url, "/api/data");
      await started;
      expect((await get(dashboard.url, "/")).status).toBe(200);
      // Held at the first chunk: the data answers with the runs of that chunk, marked as reading.
      const partial = JSON.parse((await first).body) as DashboardData;
      expect(partial.reading?.size).toBe(statSync(store).size);
      expect(partial.storeRuns).toBeGreaterThan(0);
      expect(partial.storeRuns).toBeLessThan(20_000);
      expect(partial.cumulative.totals.tasks).toBe(partial.storeRuns);
      release();
      let d = partial;
      while (d.reading) d = JSON.parse((await get(dashboard.url, "/api/data")).body) as DashboardData;
      expect(pauses).toBeGreaterThan(1);

      const t = d.cumulative.totals;
      // 20,000 tasks; failures where i % 5 === 0: 4,000.
      expect([t.tasks, t.success, t.failure]).toEqual([20_000, 16_000, 4_000]);
      // Tool failures at multiples of 7 below 20,000: 2,858; recovered at multiples of 14: 1,429.
      expect([t.failures.tool, t.recovered.tool]).toEqual([2_858, 1_429]);
      // Cost (i % 3) × 0.25: 6,667 tasks at 0, 6,667 at 0.25, 6,666 at 0.5 = 4,999.75.
      expect(t.costUsd).toBe(4_999.75);
      expect(d.cumulative.cpcs).toBe(4_999.75 / 32_000);
      // Tasks 1 s apart over 19,999 s: 15-minute buckets (300 s would need 67), 23 of them, the
      // last holding tasks 19,800–19,999; every bucket's ASF is 0.8 (900 and 200 are multiples of 5).
      expect(d.trendBucketMs).toBe(900_000);
      expect(d.trend.map((p) => [p.t, p.tasks, p.asf])).toEqual(
        Array.from({ length: 23 }, (_, j) => [GENERATED_T0 + j * 900_000, j < 22 ? 900 : 200, 0.8]),
      );
      // The run list: a page of 50, newest first, of all 20,000; any run can be opened.
      expect([d.runCount, d.page, d.runs.length]).toEqual([20_000, 0, 50]);
      expect([d.runs[0]?.id, d.runs[49]?.id]).toEqual(["run-19999", "run-19950"]);
      const page3 = JSON.parse((await get(dashboard.url, "/api/data?page=3")).body) as DashboardData;
      expect([page3.page, page3.runs[0]?.id, page3.runs[49]?.id]).toEqual([3, "run-19849", "run-19800"]);
      const run0 = await get(dashboard.url, "/api/runs/run-0");
      expect([run0.status, (JSON.parse(run0.body) as { id: string }).id]).toEqual([200, "run-0"]);
      expect((await get(dashboard.url, "/api/runs/run-12345")).status).toBe(200);
      expect((await get(dashboard.url, "/api/runs/run-1234")).status).toBe(200);
      expect((await get(dashboard.url, "/api/runs/run-123456")).status).toBe(404);
      expect((await get(dashboard.url, "/api/runs/run")).status).toBe(404);
      // A corrupt line after every 1000th task: lines 1001, 2002, …, 20020.
      expect(d.skippedCount).toBe(20);
      expect(d.skipped.map((s) => s.line)).toEqual(Array.from({ length: 20 }, (_, k) => 1001 * (k + 1)));
    } finally {
      release();
      await dashboard.close();
    }
  });
});

describe("the dashboard's evaluation records (online evaluations, user feedback)", () => {
  it("joins records appended after the runs (to a run older than the last 10,000 too), aggregates them for the runs in view, and gives a run's own", async () => {
    const store = join(tmp("records"), "runs.jsonl");
    writeGeneratedStore(store, 10_500);
    const follower = new StoreFollower(store);
    const before = await follower.data();
    expect([before.storeRuns, before.scores, before.evalCost, before.storeRecords]).toEqual([
      10_500,
      [],
      { usd: 0, unknownCalls: 0 },
      0,
    ]);
    // Appended later, with no new run: run-0 is older than the last 10,000 runs (found by a search
    // of the index), run-10499 the newest; run-999999 is not in the store.
    recordFeedback(store, { runId: "run-0", thumbs: "down", comment: "wrong" });
    recordFeedback(store, { runId: "run-10499", score: 0.9 });
    recordFeedback(store, { runId: "run-999999", thumbs: "up" });
    appendFileSync(
      store,
      `${JSON.stringify({ v: 1, type: "eval", run: "run-7", name: "helpfulness", score: 0.25, costUsd: 0.5, costUnknownCalls: 2, reason: "vague", time: GENERATED_T0 })}\n`,
    );
    const after = await follower.data();
    expect([after.storeRuns, after.storeRecords, after.unjoinedRecords]).toEqual([10_500, 3, 1]);
    const row = (name: string, kind: string, count: number, passed: number, failed: number, mean: number | null) =>
      expect.objectContaining({ name, kind, count, passed, failed, meanScore: mean });
    // helpfulness: run-7's 0.25; feedback: run-0 down (0, failed), run-10499 0.9 (passed): 0.45.
    expect(after.scores).toEqual([
      row("helpfulness", "eval", 1, 0, 0, 0.25),
      row("user_feedback", "feedback", 2, 1, 1, 0.45),
    ]);
    expect(after.scores.map((r) => [r.scored, r.costUsd, r.costUnknownCalls])).toEqual([
      [1, 0.5, 2],
      [2, 0, 0],
    ]);
    expect(after.evalCost).toEqual({ usd: 0.5, unknownCalls: 2 });
    // The range and filters select the runs; their records follow. From 1 s after T0: not run-0.
    expect((await follower.data({ from: GENERATED_T0 + 1000 })).scores).toEqual([
      row("helpfulness", "eval", 1, 0, 0, 0.25),
      row("user_feedback", "feedback", 1, 1, 0, 0.9),
    ]);
    // agent0 (i % 4 = 0): run-0 alone of the three.
    expect((await follower.data({ agent: "agent0" })).scores).toEqual([row("user_feedback", "feedback", 1, 0, 1, 0)]);
    // A run's own records, read again from their lines.
    const run0 = await follower.runView("run-0");
    expect(run0?.evalRecords).toEqual([
      expect.objectContaining({ type: "feedback", run: "run-0", thumbs: "down", pass: false, comment: "wrong" }),
    ]);
    expect((await follower.runView("run-7"))?.evalRecords).toEqual([
      {
        v: 1,
        type: "eval",
        run: "run-7",
        name: "helpfulness",
        score: 0.25,
        costUsd: 0.5,
        costUnknownCalls: 2,
        reason: "vague",
        time: GENERATED_T0,
      },
    ]);
    expect((await follower.runView("run-8"))?.evalRecords).toEqual([]);
    // Served: /api/runs/:id carries them as evalRecords.
    const dashboard = await serveDashboard(follower, { port: 0 });
    try {
      const r = JSON.parse((await get(dashboard.url, "/api/runs/run-10499")).body) as {
        id: string;
        evalRecords: Array<{ score: number; pass: boolean }>;
      };
      expect([r.id, r.evalRecords.map((x) => [x.score, x.pass])]).toEqual(["run-10499", [[0.9, true]]]);
    } finally {
      await dashboard.close();
    }
  });
});
