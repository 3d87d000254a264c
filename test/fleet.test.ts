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
  private waiting: Array<{ name: string; resolve: (m: Reply) => void }> = [];
  exitCode: number | null | undefined;

  constructor() {
    this.child = fork(WORKER, [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    this.child.on("message", (m: Reply) => {
      if (m.reply === "error") throw new Error(`worker failed: ${m.error}`);
      const i = this.waiting.findIndex((w) => w.name === m.reply);
      if (i >= 0) this.waiting.splice(i, 1)[0]?.resolve(m);
      else this.inbox.push(m);
    });
    this.child.on("exit", (code) => {
      this.exitCode = code;
    });
  }

  next(name: string, timeoutMs = 60_000): Promise<Reply> {
    const i = this.inbox.findIndex((m) => m.reply === name);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0] as Reply);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${name} from worker within ${timeoutMs} ms`)), timeoutMs);
      this.waiting.push({
        name,
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
});
