import { breakersBench } from "./breakers.js";
import { metricsBench } from "./metrics.js";
import { overhead } from "./overhead.js";

/**
 * `npm run bench` prints a table; `npm run bench -- --json` prints one JSON object with every figure.
 * `--quick` runs fewer rounds (for a smoke check, not for figures).
 */
const json = process.argv.includes("--json");
const quick = process.argv.includes("--quick");

const figures: Record<string, unknown> = {
  machine: { node: process.version, cpus: (await import("node:os")).cpus().length },
  overhead: await overhead(quick ? { rounds: 10, perRound: 1 } : { rounds: 300, perRound: 1 }),
  metrics: await metricsBench(quick ? 10_000 : 100_000),
  breakers: await breakersBench(quick ? 50 : 1000),
};

if (json) {
  process.stdout.write(`${JSON.stringify(figures)}\n`);
} else {
  for (const [name, value] of Object.entries(figures)) {
    console.log(`${name}:`);
    console.log(JSON.stringify(value, null, 2));
  }
}
