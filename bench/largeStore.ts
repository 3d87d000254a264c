/**
 * Time and peak memory of `agentwarden report` and of the dashboard's first `/api/data` on a large
 * run store, and how long `/` takes to answer while that read runs. Not part of `npm run bench`.
 *
 *   npx tsx bench/largeStore.ts [lines] [--root=DIR]
 *
 * The store repeats the demo's task summaries (about 2 KB a line, as real ones) with fresh ids and
 * start times. `--root` measures another checkout's code (e.g. an older commit) on the same store.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, statSync, writeFileSync, writeSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";

const lines = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 200_000);
const root = resolve(process.argv.find((a) => a.startsWith("--root="))?.slice(7) ?? join(import.meta.dirname, ".."));
const dir = mkdtempSync(join(tmpdir(), "aw-large-store-"));
const store = join(dir, "runs.jsonl");

// A store of `lines` lines, from the demo's summaries.
const demo = join(dir, "demo.jsonl");
execFileSync("npx", ["tsx", "--conditions=agentwarden-source", "examples/demo.ts", "--no-serve", `--store=${demo}`], {
  cwd: join(import.meta.dirname, ".."),
  stdio: "ignore",
});
const samples = readFileSync(demo, "utf8")
  .trimEnd()
  .split("\n")
  .map((l) => JSON.parse(l) as { id: string; start: number });
const fd = openSync(store, "w");
let block: string[] = [];
for (let i = 0; i < lines; i++) {
  const s = samples[i % samples.length] as { id: string; start: number };
  block.push(JSON.stringify({ ...s, id: `${s.id}-${i}`, start: 1_800_000_000_000 + i * 1000 }));
  if (block.length === 5000 || i === lines - 1) {
    writeSync(fd, `${block.join("\n")}\n`);
    block = [];
  }
}
closeSync(fd);
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;
console.log(`store: ${lines} lines, ${mb(statSync(store).size)} (${root})`);

// agentwarden report: wall time and peak RSS of the process.
const timed = spawnSync(
  "/usr/bin/time",
  ["-f", "%e %M", process.execPath, "--import", "tsx", join(root, "src/cli/main.ts"), "report", store],
  { cwd: root, encoding: "utf8", stdio: ["ignore", "ignore", "pipe"], maxBuffer: 1 << 30 },
);
const [seconds, kb] = (timed.stderr.trim().split("\n").pop() ?? "").split(" ");
console.log(`report: ${seconds} s, peak RSS ${mb(Number(kb) * 1024)}`);

// The dashboard, in its own process: the first /api/data, and `/` requested over and over meanwhile.
const child = join(dir, "dashboard.mts");
writeFileSync(
  child,
  `import { serveDashboard } from ${JSON.stringify(join(root, "src/dashboard/server.ts"))};
const d = await serveDashboard(${JSON.stringify(store)}, { port: 0 });
console.log(d.url);
process.stdin.once("data", () => { console.log(process.resourceUsage().maxRSS); process.exit(0); });`,
);
const server = spawn(process.execPath, ["--import", "tsx", child], { cwd: root, stdio: ["pipe", "pipe", "inherit"] });
const out = createInterface({ input: server.stdout });
const next = () => new Promise<string>((res) => out.once("line", res));
const url = await next();

function get(path: string): Promise<number> {
  const started = performance.now();
  return new Promise((res, rej) => {
    request(new URL(path, url), (r) => {
      r.resume();
      r.on("end", () => res(performance.now() - started));
    })
      .on("error", rej)
      .end();
  });
}

let done = false;
// The first /api/data that is not partial (the dashboard answers with the runs read so far, marked
// `reading`, while it reads).
const data = (async () => {
  const started = performance.now();
  while (true) {
    const body = await new Promise<string>((res, rej) => {
      request(new URL("/api/data", url), (r) => {
        let text = "";
        r.setEncoding("utf8");
        r.on("data", (c: string) => {
          text += c;
        });
        r.on("end", () => res(text));
      })
        .on("error", rej)
        .end();
    });
    if (!(JSON.parse(body) as { reading?: unknown }).reading) break;
  }
  done = true;
  return performance.now() - started;
})();
const pages: number[] = [];
while (!done) pages.push(await get("/"));
const first = await data;
const again = await get("/api/data");
server.stdin.write("report\n");
const rssKb = Number(await next());
pages.sort((a, b) => a - b);
console.log(
  `dashboard: first /api/data ${(first / 1000).toFixed(1)} s, next ${again.toFixed(0)} ms, peak RSS ${mb(rssKb * 1024)}; ` +
    `/ answered ${pages.length} times meanwhile, median ${(pages[Math.floor(pages.length / 2)] ?? 0).toFixed(0)} ms, ` +
    `slowest ${(pages.at(-1) ?? 0).toFixed(0)} ms`,
);
