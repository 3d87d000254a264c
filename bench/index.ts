import { breakersBench } from "./breakers.js";
import { concurrencyBench } from "./concurrency.js";
import { dashboardBench } from "./dashboard.js";
import { fleetBench } from "./fleet.js";
import { mcpBench } from "./mcp.js";
import { metricsBench } from "./metrics.js";
import { onlineBench } from "./online.js";
import { peersBench } from "./peers.js";
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
if (wanted("peers"))
  figures.peers = await peersBench(quick ? { rounds: 10, heapRuns: 20 } : { rounds: 100, heapRuns: 1000 });
if (wanted("metrics")) figures.metrics = await metricsBench(quick ? 10_000 : 100_000);
if (wanted("breakers")) figures.breakers = await breakersBench(quick ? 50 : 1000);
if (wanted("mcp"))
  figures.mcp = await mcpBench(
    quick ? { rounds: 10, perRound: 20, stdioRounds: 5 } : { rounds: 200, perRound: 50, stdioRounds: 60 },
  );

if (wanted("online"))
  figures.online = await onlineBench(quick ? { tasks: 1_000, rounds: 5 } : { tasks: 10_000, rounds: 100 });
if (wanted("concurrency"))
  figures.concurrency = await concurrencyBench(quick ? { tasks: 200, rounds: 2 } : { tasks: 5_000, rounds: 5 });
if (wanted("fleet"))
  figures.fleet = await fleetBench(
    quick ? { decisions: 500, tasks: 20, rounds: 2 } : { decisions: 10_000, tasks: 100, rounds: 5 },
  );
if (wanted("dashboard")) figures.dashboard = await dashboardBench(quick ? 20_000 : 200_000);
if (wanted("soak")) figures.soak = await soakBench(quick ? 2_000 : 100_000);

if (json) {
  process.stdout.write(`${JSON.stringify(figures)}\n`);
} else {
  for (const [name, value] of Object.entries(figures)) {
    console.log(`${name}:`);
    console.log(JSON.stringify(value, null, 2));
  }
}
