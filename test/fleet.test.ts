import { type ChildProcess, fork } from "node:child_process";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { hasRedis, TestRedis } from "./support/redis.js";

// Real Redis, real processes: 8 workers, each its own Warden, on one redis-server of the test's own.
const WORKERS = 8;
const WORKER = new URL("./support/fleet-worker.ts", import.meta.url).pathname;

type Reply = Record<string, unknown> & { reply: string };

class Worker {
  readonly child: ChildProcess;
  private readonly inbox: Reply[] = [];
  private waiting: Array<{ names: string[]; resolve: (m: Reply) => void }> = [];
  exitCode: number | null | undefined;

  constructor() {
    this.child = fork(WORKER, [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    this.child.on("message", (m: Reply) => {
      if (m.reply === "error") throw new Error(`worker failed: ${m.error}`);
      const i = this.waiting.findIndex((w) => w.names.includes(m.reply));
      if (i >= 0) this.waiting.splice(i, 1)[0]?.resolve(m);
      else this.inbox.push(m);
    });
    this.child.on("exit", (code) => {
      this.exitCode = code;
    });
  }

  /** The next message whose `reply` is one of `names` (`a|b`). */
  next(names: string, timeoutMs = 60_000): Promise<Reply> {
    const wanted = names.split("|");
    const i = this.inbox.findIndex((m) => wanted.includes(m.reply));
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0] as Reply);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${names} from worker within ${timeoutMs} ms`)), timeoutMs);
      this.waiting.push({
        names: wanted,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  async ask(cmd: Record<string, unknown>, answer: string, timeoutMs?: number): Promise<Reply> {
    const reply = this.next(answer, timeoutMs);
    this.child.send(cmd);
    return reply;
  }

  async exit(): Promise<number | null> {
    if (this.exitCode !== undefined) return this.exitCode;
    const exited = new Promise<number | null>((r) => this.child.once("exit", r));
    this.child.send({ cmd: "exit" });
    return exited;
  }
}

const started: Worker[] = [];

async function fleet(init: Record<string, unknown>): Promise<Worker[]> {
  const workers = Array.from({ length: WORKERS }, () => new Worker());
  started.push(...workers);
  await Promise.all(workers.map((w) => w.next("started")));
  await Promise.all(workers.map((w) => w.ask({ cmd: "init", ...init }, "ready")));
  return workers;
}

async function stopAll(workers: Worker[]): Promise<void> {
  const codes = await Promise.all(workers.map((w) => w.exit()));
  expect(codes).toEqual(workers.map(() => 0)); // no worker crashed
}

let redis: TestRedis;
let prefixes = 0;
const prefix = () => `aw${++prefixes}:`;

describe.skipIf(!hasRedis)("many workers on one Redis", () => {
  beforeAll(async () => {
    redis = await TestRedis.start();
  });
  afterAll(async () => {
    await redis?.close();
  });
  afterEach(() => {
    // A failed test leaves its workers: end them (only the processes this test started).
    for (const w of started.splice(0)) if (w.exitCode === undefined) w.child.kill("SIGKILL");
  });

  it("8 workers on one tenant budget: spend stays within it, refusals are what the arithmetic says", async () => {
    // Input is free and each call reports exactly its output limit (1000 tokens at $2/M): the
    // worst case reserved before each call is its actual cost, W = $0.002, so the estimate error is 0.
    // Budget $0.021: floor(0.021 / 0.002) = 10 calls fit; 8 workers × 3 tasks = 24 attempts.
    const workers = await fleet({ url: redis.url, prefix: prefix(), budget: 0.021, maxOutput: 1000 });
    const replies = await Promise.all(
      workers.map((w) => w.ask({ cmd: "tasks", n: 3, output: 1000, delayMs: 150 }, "tasks")),
    );
    const results = replies.flatMap((r) => r.results as Array<{ ok: boolean; kind?: string }>);
    const admitted = results.filter((r) => r.ok).length;
    const refused = results.filter((r) => !r.ok);
    expect(admitted).toBe(10);
    expect(refused).toHaveLength(14);
    expect(new Set(refused.map((r) => r.kind))).toEqual(new Set(["shared_budget"]));
    const spent = admitted * 0.002;
    expect(spent).toBeLessThanOrEqual(0.021);
    expect(replies.every((r) => r.fallbacks === 0)).toBe(true);
    await stopAll(workers);
  }, 120_000);

  it("with estimate errors, the overshoot is at most the in-flight calls' errors", async () => {
    // Each call's input is priced ($1/M) and estimated low: the prompt "x" is estimated at e tokens,
    // the scripted usage says 1000, so each call costs 0.001·(1000 − e)/1000 more than reserved,
    // at most $0.001. At most 8 calls are in flight (one per worker), so spend ≤ budget + 8 × $0.001.
    const workers = await fleet({ url: redis.url, prefix: prefix(), budget: 0.021, maxOutput: 1000, inputPrice: 1 });
    const replies = await Promise.all(
      workers.map((w) => w.ask({ cmd: "tasks", n: 3, input: 1000, output: 1000, delayMs: 150 }, "tasks")),
    );
    const results = replies.flatMap((r) => r.results as Array<{ ok: boolean; kind?: string }>);
    const admitted = results.filter((r) => r.ok).length;
    const perCall = 0.001 + 0.002; // the scripted usage, priced
    const spent = admitted * perCall;
    expect(spent).toBeLessThanOrEqual(0.021 + WORKERS * 0.001);
    // And no call the reservation refused ran: each refusal ended its worker's task before the call.
    expect(results.filter((r) => !r.ok).every((r) => r.kind === "shared_budget")).toBe(true);
    // Reservations are settled to the actual cost: a worst case of ~$0.002 per call would admit 10; the
    // actual $0.003 per call leaves room for fewer.
    expect(admitted).toBeLessThanOrEqual(10);
    expect(admitted).toBeGreaterThanOrEqual(Math.floor((0.021 - WORKERS * 0.003) / 0.003));
    await stopAll(workers);
  }, 120_000);

  it("a shared tool breaker opens in every worker after the shared threshold; one worker probes in half-open", async () => {
    const workers = await fleet({
      url: redis.url,
      prefix: prefix(),
      // Long enough that the open phase below is over before it ends, even on a loaded machine.
      breaker: { consecutiveFailures: 5, halfOpenAfterMs: 4000 },
    });
    const backend = async () => {
      const r = await Promise.all(workers.map((w) => w.ask({ cmd: "tool", fail: false }, "tool")));
      return { replies: r, calls: r.reduce((n, x) => n + Number(x.backendCalls), 0) };
    };
    // The backend is down: one call per worker, in turn. The first 5 reach it and fail; the shared
    // window then holds 5 failures, the breaker is open, and the last 3 workers are refused.
    const first: Reply[] = [];
    for (const w of workers) first.push(await w.ask({ cmd: "tool", fail: true }, "tool"));
    expect(first.map((r) => r.outcome)).toEqual([...Array(5).fill("failed"), ...Array(3).fill("refused")]);
    // Every worker sees it open, those that never saw a failure too; no call reaches the backend.
    const open = await backend();
    expect(open.replies.map((r) => [r.outcome, r.state])).toEqual(workers.map(() => ["refused", "open"]));
    expect(open.calls).toBe(5);
    await new Promise((r) => setTimeout(r, 4100)); // past halfOpenAfterMs
    // Half-open, the backend back: all 8 call at once. One worker takes the probe (the backend holds
    // its call until the test releases it); the other 7 are refused meanwhile.
    const answers = await Promise.all(
      workers.map((w) => {
        const first = w.next("tool|probing");
        w.child.send({ cmd: "tool", fail: false, hold: true });
        return first;
      }),
    );
    const probers = workers.filter((_, i) => answers[i]?.reply === "probing");
    expect(probers).toHaveLength(1);
    const others = answers.filter((a) => a.reply === "tool");
    expect(others.map((a) => [a.outcome, a.state])).toEqual(Array(7).fill(["refused", "half-open"]));
    const prober = probers[0] as Worker;
    const probed = await prober.ask({ cmd: "release" }, "tool");
    expect([probed.outcome, probed.state]).toEqual(["ok", "closed"]);
    // Its success closed the breaker for all.
    const closed = await backend();
    expect(closed.replies.map((r) => [r.outcome, r.state])).toEqual(workers.map(() => ["ok", "closed"]));
    expect(closed.calls).toBe(5 + 1 + 8);
    await stopAll(workers);
  }, 120_000);

  it("a rate limit holds across 8 workers: admitted requests per window within the GCRA bound", async () => {
    const workers = await fleet({ url: redis.url, prefix: prefix() });
    // 20 per second (T = 50 ms between requests, bursts of 20), 8 workers asking as fast as they can.
    const L = 20;
    const P = 1000;
    const T = P / L;
    const replies = await Promise.all(
      workers.map((w) => w.ask({ cmd: "take", ms: 2500, limit: L, periodMs: P }, "take")),
    );
    const at = replies.flatMap((r) => r.admitted as number[]).sort((a, b) => a - b);
    const attempts = replies.reduce((n, r) => n + Number(r.attempts), 0);
    // GCRA: the n requests admitted in [a, a + w) push the arrival time to ≥ a + n·T, and an admitted
    // request leaves it ≤ its time + P; so n·T ≤ w + P, n ≤ L + w/T — in any window, by the store's clock.
    for (let i = 0; i < at.length; i++) {
      const start = at[i] as number;
      const n = at.filter((t) => t >= start && t < start + 1000).length;
      expect(n).toBeLessThanOrEqual(L + 1000 / T);
    }
    const span = (at.at(-1) as number) - (at[0] as number);
    expect(at.length).toBeLessThanOrEqual(L + span / T);
    expect(at.length).toBeGreaterThanOrEqual(L); // the first burst
    expect(attempts).toBeGreaterThan(at.length); // and the limit refused the rest
    await stopAll(workers);
  }, 120_000);

  for (const mode of ["failOpen", "failClosed"] as const) {
    it(`Redis stopped mid-run and restarted (${mode})`, async () => {
      const workers = await fleet({ url: redis.url, prefix: prefix(), budget: 1, mode });
      const tasks = (n: number) =>
        Promise.all(workers.map((w) => w.ask({ cmd: "tasks", n, output: 100 }, "tasks", 30_000)));
      const results = (rs: Reply[]) =>
        rs.flatMap((r) => r.results as Array<{ ok: boolean; kind?: string; reason?: string; cause?: string }>);
      const before = await tasks(1);
      expect(results(before).every((r) => r.ok)).toBe(true);
      expect(before.flatMap((r) => r.events)).toEqual(workers.map(() => "reserved"));
      await redis.stop();
      const during = await tasks(2);
      if (mode === "failOpen") {
        // Every task finishes on local limits; each fallback is counted and reported.
        expect(results(during).every((r) => r.ok)).toBe(true);
        expect(during.flatMap((r) => r.events)).toEqual(Array(WORKERS * 2).fill("reserved_local"));
        // Per task: the reservation and the settlement fell back.
        expect(during.map((r) => r.fallbacks)).toEqual(workers.map(() => 4));
      } else {
        // Refused, with the typed reason.
        expect(results(during).map((r) => r.kind)).toEqual(Array(WORKERS * 2).fill("state_unavailable"));
        expect(results(during).every((r) => r.reason?.includes("shared state store is unreachable"))).toBe(true);
        expect(results(during).map((r) => r.cause)).toEqual(Array(WORKERS * 2).fill("STATE_UNAVAILABLE"));
      }
      await redis.start();
      const ready = await Promise.all(workers.map((w) => w.ask({ cmd: "waitReady" }, "waitReady")));
      expect(ready.every((r) => r.ready)).toBe(true); // reconnected, no restart
      const after = await tasks(1);
      expect(results(after).every((r) => r.ok)).toBe(true);
      expect(after.flatMap((r) => r.events)).toEqual(workers.map(() => "reserved"));
      await stopAll(workers);
    }, 120_000);
  }
});
