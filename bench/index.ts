import { spawnSync } from "node:child_process";
import { breakersBench } from "./breakers.js";
import { concurrencyBench } from "./concurrency.js";
import { dashboardBench } from "./dashboard.js";
import { fleetBench } from "./fleet.js";
import { mcpBench } from "./mcp.js";
import { metricsBench } from "./metrics.js";
import { onlineBench } from "./online.js";
import { type PeersSample, peersFigures, peersSample } from "./peers.js";
import { soakBench } from "./soak.js";

/**
 * `npm run bench` prints every figure, readable; `npm run bench -- --json` prints one JSON object
 * (the last line of output; `npm run -s bench -- --json` prints nothing else). `--quick` runs fewer
 * rounds (a smoke check, not figures); `--only peers,metrics` runs some of the benchmarks
 * (peers, metrics, breakers, mcp, online, concurrency, fleet, soak, dashboard; soak, 100,000 tasks, and dashboard,
 * a 200,000-run store in headless Chromium, take the longest).
 */
const args = process.argv.slice(2);
const json = args.includes("--json");
const quick = args.includes("--quick");
const onlyArg = args.find((a) => a.startsWith("--only"));
const only = onlyArg ? (onlyArg.split("=")[1] ?? args[args.indexOf(onlyArg) + 1] ?? "").split(",") : undefined;
const wanted = (name: string) => !only || only.includes(name);

const figures: Record<string, unknown> = {
  machine: { node: process.version, cpus: (await import("node:os")).cpus().length },
};

const benches: Record<string, () => Promise<unknown>> = {
  peers: () => peersSample(PEERS),
  metrics: () => metricsBench(quick ? 10_000 : 100_000),
  breakers: () => breakersBench(quick ? 50 : 1000),
  mcp: () =>
    mcpBench(quick ? { rounds: 10, perRound: 20, stdioRounds: 5 } : { rounds: 200, perRound: 50, stdioRounds: 150 }),
  online: () => onlineBench(quick ? { tasks: 1_000, rounds: 5 } : { tasks: 10_000, rounds: 100 }),
  concurrency: () => concurrencyBench(quick ? { tasks: 200, rounds: 2 } : { tasks: 5_000, rounds: 5 }),
  fleet: () =>
    fleetBench(quick ? { decisions: 500, tasks: 20, rounds: 2 } : { decisions: 10_000, tasks: 100, rounds: 5 }),
  dashboard: () => dashboardBench(quick ? 20_000 : 200_000),
  soak: () => soakBench(quick ? 2_000 : 100_000),
};

/** Peers: rounds per process, and processes whose rounds are pooled. */
const PEERS = quick ? { rounds: 10, heapRuns: 20 } : { rounds: 100, heapRuns: 1000 };
const PEERS_PROCESSES = quick ? 1 : 3;

const childArg = args.indexOf("--child");
if (childArg >= 0) {
  // One benchmark in this process, its figures as the last line of output.
  const name = args[childArg + 1] as string;
  const value = await (benches[name] as () => Promise<unknown>)();
  process.stdout.write(`\n${JSON.stringify(value)}\n`);
  process.exit(0);
}

// Each benchmark runs in a process of its own: the heap, the JIT's state and the patches one leaves
// behind (the peers' instrumentations, thousands of retained spans) would otherwise slow the next
// (measured: the metrics benchmark gave 1.3 million step events per second after the peers in one
// process, 2.9 million alone).
function inChild(name: string): unknown {
  const flags = [quick ? "--quick" : ""].filter(Boolean);
  const child = spawnSync(
    process.execPath,
    [...process.execArgv, process.argv[1] as string, "--child", name, ...flags],
    {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
      maxBuffer: 64 * 2 ** 20,
    },
  );
  const last = child.stdout.trim().split("\n").at(-1) ?? "";
  if (child.status !== 0 || !last.startsWith("{")) {
    process.stderr.write(child.stdout);
    throw new Error(`benchmark ${name} failed (exit ${child.status})`);
  }
  return JSON.parse(last);
}

for (const name of Object.keys(benches)) {
  if (!wanted(name)) continue;
  if (name === "peers") {
    const samples: PeersSample[] = [];
    for (let i = 0; i < PEERS_PROCESSES; i++) samples.push(inChild(name) as PeersSample);
    figures.peers = peersFigures(samples, PEERS);
  } else figures[name] = inChild(name);
}

if (json) {
  process.stdout.write(`${JSON.stringify(figures)}\n`);
} else {
  for (const [name, value] of Object.entries(figures)) {
    console.log(`${name}:`);
    console.log(JSON.stringify(value, null, 2));
  }
}
