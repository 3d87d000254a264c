/**
 * The dashboard on a large store (`--only dashboard`): a store of `runs` runs written by
 * `dashboardStore.ts` in a tmp dir, served by `serveDashboard` in its own process, opened in headless
 * Chromium (/usr/bin/chromium). Measures:
 *   readyMs      server listening → the whole store indexed (`/api/data` no longer marked `reading`)
 *   rootMs       `/` answered while the store is read (median and slowest)
 *   firstPaintMs navigation → the tiles rendered, once the server is ready (median of 3 page loads)
 *   filterMs     a filter or time-range change → the run list re-rendered (median; each one listed)
 *   searchMs     typing a search → the list re-rendered (includes the page's 200 ms typing pause)
 *   serverMb     peak RSS of the server process: `serveDashboard` bundled to plain JavaScript with
 *                esbuild (tsx's own loader would add about 40 MB that users running the built package
 *                do not have), run by node
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { build } from "esbuild";
import { chromium, type Page } from "playwright-core";
import { writeDashboardStore } from "./dashboardStore.js";

const CHROMIUM = "/usr/bin/chromium";

declare const document: { querySelector(selector: string): { textContent: string | null } | null };

function get(url: string): Promise<{ ms: number; body: string }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    request(url, (r) => {
      let body = "";
      r.setEncoding("utf8");
      r.on("data", (c: string) => {
        body += c;
      });
      r.on("end", () => resolve({ ms: performance.now() - started, body }));
    })
      .on("error", reject)
      .end();
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[Math.floor(s.length / 2)] as number) : 0;
};
const round = (x: number) => Math.round(x);

async function changed(page: Page, act: () => Promise<unknown>): Promise<number> {
  const before = await page.textContent('[data-testid="run-count"]');
  const started = performance.now();
  await act();
  await page.waitForFunction((b) => document.querySelector('[data-testid="run-count"]')?.textContent !== b, before, {
    timeout: 60_000,
    polling: "raf",
  });
  return performance.now() - started;
}

export async function dashboardBench(runs: number): Promise<Record<string, unknown>> {
  if (!existsSync(CHROMIUM)) return { skipped: `no ${CHROMIUM}` };
  const dir = mkdtempSync(join(tmpdir(), "aw-bench-dashboard-"));
  try {
    const store = join(dir, "runs.jsonl");
    let started = performance.now();
    const bytes = writeDashboardStore(store, runs);
    const genMs = performance.now() - started;

    const entry = join(dir, "server.mts");
    writeFileSync(
      entry,
      `import { serveDashboard } from ${JSON.stringify(join(import.meta.dirname, "..", "src", "dashboard", "server.ts"))};
const d = await serveDashboard(${JSON.stringify(store)}, { port: 0 });
console.log(d.url);
process.stdin.once("data", () => { console.log(process.resourceUsage().maxRSS); process.exit(0); });`,
    );
    const child = join(dir, "server.mjs");
    await build({
      entryPoints: [entry],
      bundle: true,
      platform: "node",
      format: "esm",
      outfile: child,
      logLevel: "error",
    });
    const server = spawn(process.execPath, [child], { stdio: ["pipe", "pipe", "inherit"] });
    const out = createInterface({ input: server.stdout });
    const next = () => new Promise<string>((resolve) => out.once("line", resolve));
    try {
      const url = await next();
      // The first read: `/` requested over and over meanwhile, /api/data until it is no longer partial.
      started = performance.now();
      let ready = false;
      const reading = (async () => {
        while (true) {
          const r = await get(`${url}api/data`);
          if (!(JSON.parse(r.body) as { reading?: unknown }).reading) break;
        }
        ready = true;
      })();
      const root: number[] = [];
      while (!ready) root.push((await get(url)).ms);
      await reading;
      const readyMs = performance.now() - started;

      const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] });
      try {
        const paints: number[] = [];
        let page: Page | undefined;
        for (let k = 0; k < 3; k++) {
          await page?.close();
          page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
          const t = performance.now();
          await page.goto(url, { waitUntil: "commit" });
          await page.waitForFunction(
            () => document.querySelector('[data-testid="asf"]')?.textContent !== "–",
            undefined,
            {
              timeout: 60_000,
              polling: "raf",
            },
          );
          paints.push(performance.now() - t);
        }
        const p = page as Page;
        await p.waitForSelector("tr.run");
        const filters: Record<string, number> = {};
        filters.agent = await changed(p, () => p.selectOption("#f-agent", "writer"));
        filters.outcome = await changed(p, () => p.selectOption("#f-outcome", "failure"));
        filters.tool = await changed(p, () => p.selectOption("#f-tool", "sql_query"));
        filters.clear = await changed(p, () => p.click("#clear"));
        filters.version = await changed(p, () => p.selectOption("#f-version", "2026.11.2"));
        filters.error = await changed(p, () => p.selectOption("#f-error", "TimeoutError"));
        filters.clear2 = await changed(p, () => p.click("#clear"));
        filters.lastDay = await changed(p, () => p.click('[data-range="24h"]'));
        filters.lastHour = await changed(p, () => p.click('[data-range="1h"]'));
        filters.all = await changed(p, () => p.click('[data-range="all"]'));
        filters.nextPage = await changed(p, () => p.click("#next"));
        const searchMs = await changed(p, () => p.fill("#q", "refund"));
        const values = Object.values(filters);
        server.stdin.write("report\n");
        const rssKb = Number(await next());
        return {
          runs,
          storeMb: round(bytes / 1e6),
          generateMs: round(genMs),
          readyMs: round(readyMs),
          rootMs: { whileReading: root.length, median: round(median(root)), slowest: round(Math.max(0, ...root)) },
          firstPaintMs: round(median(paints)),
          firstPaints: paints.map(round),
          filterMs: round(median(values)),
          filterMaxMs: round(Math.max(...values)),
          filters: Object.fromEntries(Object.entries(filters).map(([k, v]) => [k, round(v)])),
          searchMs: round(searchMs),
          serverMb: round((rssKb * 1024) / 1e6),
        };
      } finally {
        await browser.close();
      }
    } finally {
      server.kill();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
