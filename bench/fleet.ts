import { type ChildProcess, fork } from "node:child_process";
import { MemoryStateStore } from "agentwarden";
import { connectRedis } from "agentwarden/redis";
import { hasRedis, TestRedis } from "../test/support/redis.js";
import { median, quantile, round } from "./harness.js";

export interface FleetFigures {
  description: string;
  /** One shared-budget decision (reserve the worst case, atomically, against 2 budgets), loopback Redis. */
  reserveMs: { p50: number; p99: number; samples: number };
  /** The settlement after the call (reservation → actual cost). */
  settleMs: { p50: number; p99: number };
  /** A rate-limit decision (GCRA, one Lua script). */
  takeMs: { p50: number; p99: number };
  /** The same reservation on MemoryStateStore (one process), for scale. */
  memoryReserveMs: { p50: number; p99: number };
  /** 8 worker processes, each running `tasks` one-call agent tasks: agentwarden on Redis (shared budget + rate limit) against bare. */
  throughput: {
    workers: number;
    tasksPerWorker: number;
    rounds: number;
    bareTasksPerSecond: number;
    wardenTasksPerSecond: number;
    /** The same limits on each process's own memory (MemoryStateStore): what Redis adds is the difference. */
    localTasksPerSecond: number;
    /** Median over rounds of (wall time with agentwarden on Redis / bare wall time). */
    ratio: number;
    /** Median over rounds of (wall time with agentwarden, limits in memory / bare wall time). */
    localRatio: number;
  };
}

const ms = (sorted: number[]) => ({ p50: round(quantile(sorted, 0.5), 4), p99: round(quantile(sorted, 0.99), 4) });

type Reply = Record<string, unknown> & { reply: string };

function worker(): { child: ChildProcess; next: (name: string) => Promise<Reply> } {
  const child = fork(new URL("../test/support/fleet-worker.ts", import.meta.url).pathname, [], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const inbox: Reply[] = [];
  const waiting: Array<[string, (m: Reply) => void]> = [];
  child.on("message", (m: Reply) => {
    const i = waiting.findIndex(([n]) => n === m.reply);
    if (i >= 0) waiting.splice(i, 1)[0]?.[1](m);
    else inbox.push(m);
  });
  return {
    child,
    next: (name) => {
      const i = inbox.findIndex((m) => m.reply === name);
      if (i >= 0) return Promise.resolve(inbox.splice(i, 1)[0] as Reply);
      return new Promise((r) => waiting.push([name, r]));
    },
  };
}

export async function fleetBench(options: {
  decisions: number;
  tasks: number;
  rounds: number;
}): Promise<FleetFigures | { skipped: string }> {
  if (!hasRedis) return { skipped: "redis-server is not installed (scripts/system-deps.sh installs it)" };
  const redis = await TestRedis.start();
  try {
    const { store, close } = await connectRedis(redis.url, { timeoutMs: 1000 });
    const lines = [
      { key: "tenant-daily\u0000acme", limit: 1e9, windowMs: 86_400_000 },
      { key: "task\u0000t1", limit: 1e9, windowMs: 86_400_000 },
    ];
    const reserve: number[] = [];
    const settle: number[] = [];
    const take: number[] = [];
    const memory = new MemoryStateStore();
    const memoryReserve: number[] = [];
    for (let i = 0; i < options.decisions + 200; i++) {
      const id = `r${i}`;
      let t = performance.now();
      await store.reserve(id, lines, 0.002, Date.now(), 60_000);
      const r = performance.now() - t;
      t = performance.now();
      await store.settle(id, lines, 0.0015, Date.now());
      const s = performance.now() - t;
      t = performance.now();
      await store.take("rpm\u0000test-model", 1, 1e9, 60_000, Date.now());
      const k = performance.now() - t;
      t = performance.now();
      memory.reserve(id, lines, 0.002, Date.now(), 60_000);
      memory.settle(id, lines, 0.0015, Date.now());
      const m = performance.now() - t;
      if (i >= 200) {
        reserve.push(r);
        settle.push(s);
        take.push(k);
        memoryReserve.push(m);
      }
    }
    await close();
    const sort = (a: number[]) => a.sort((x, y) => x - y);

    const WORKERS = 8;
    const workers = Array.from({ length: WORKERS }, worker);
    await Promise.all(workers.map((w) => w.next("started")));
    await Promise.all(
      workers.map((w) => {
        w.child.send({ cmd: "init", url: redis.url, prefix: "bench:", budget: 1e6, rpm: 1e9, maxOutput: 100 });
        return w.next("ready");
      }),
    );
    const wall = async (variant: "bare" | "local" | "redis") => {
      const start = performance.now();
      await Promise.all(
        workers.map((w) => {
          w.child.send({
            cmd: "tasks",
            n: options.tasks,
            output: 100,
            bare: variant === "bare",
            local: variant === "local",
          });
          return w.next("tasks");
        }),
      );
      return performance.now() - start;
    };
    const variants = ["bare", "local", "redis"] as const;
    for (const v of variants) await wall(v); // warm-up
    const ratios: number[] = [];
    const localRatios: number[] = [];
    const bareMs: number[] = [];
    const wardenMs: number[] = [];
    const localMs: number[] = [];
    for (let round = 0; round < options.rounds; round++) {
      const t: Record<string, number> = {};
      for (let i = 0; i < variants.length; i++) {
        const v = variants[(round + i) % variants.length] as (typeof variants)[number];
        t[v] = await wall(v);
      }
      bareMs.push(t.bare as number);
      wardenMs.push(t.redis as number);
      localMs.push(t.local as number);
      ratios.push((t.redis as number) / (t.bare as number));
      localRatios.push((t.local as number) / (t.bare as number));
    }
    await Promise.all(
      workers.map(
        (w) =>
          new Promise((r) => {
            w.child.once("exit", r);
            w.child.send({ cmd: "exit" });
          }),
      ),
    );
    const total = WORKERS * options.tasks;
    return {
      description:
        "loopback redis-server 7 started by the bench; decisions timed in one process after 200 warm-up ones; throughput: 8 worker processes (each its own Warden on RedisStateStore: a tenant budget reserved and settled per model call, a per-model rate limit) running one-call scripted ReAct tasks, against the same agents unwrapped, rounds interleaved",
      reserveMs: { ...ms(sort(reserve)), samples: reserve.length },
      settleMs: ms(sort(settle)),
      takeMs: ms(sort(take)),
      memoryReserveMs: ms(sort(memoryReserve)),
      throughput: {
        workers: WORKERS,
        tasksPerWorker: options.tasks,
        rounds: options.rounds,
        bareTasksPerSecond: round(total / (median(bareMs) / 1000), 1),
        wardenTasksPerSecond: round(total / (median(wardenMs) / 1000), 1),
        localTasksPerSecond: round(total / (median(localMs) / 1000), 1),
        ratio: round(median(ratios), 3),
        localRatio: round(median(localRatios), 3),
      },
    };
  } finally {
    await redis.close();
  }
}
