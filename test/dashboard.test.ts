import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tool } from "@langchain/core/tools";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { type Browser, chromium } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { wrapGraph } from "../adapters/langgraph/index.js";
import { ScriptedChatModel } from "../adapters/testing/index.js";
import { type Dashboard, readStore, serveDashboard, Warden } from "../src/index.js";
import { runBatch, TEST_PRICES, user } from "./support/agents.js";

// The page's globals, as the functions passed to page.evaluate see them.
declare const document: { querySelector(selector: string): { textContent: string | null } | null };
declare const window: Record<string, unknown>;

const CHROMIUM = "/usr/bin/chromium";
const hostile = `<script>window.__pwned = true</script><img src=x onerror="window.__pwned = true">`;

/** A task whose tool fails with an error message carrying markup. */
async function hostileTask(warden: Warden) {
  const evil = tool(
    async () => {
      throw new Error(`upstream said: ${hostile}`);
    },
    { name: "scrape", description: "Scrapes.", schema: z.object({ url: z.string() }) },
  );
  const llm = new ScriptedChatModel({
    model: "test-model",
    script: (m) =>
      m.some((x) => x.getType() === "tool")
        ? { content: "could not scrape", usage: { input: 0, output: 0 } }
        : { toolCalls: [{ name: "scrape", args: { url: "https://example.org" } }], usage: { input: 0, output: 0 } },
  });
  await wrapGraph(createReactAgent({ llm, tools: [evil], name: "scraper" }), { warden }).invoke(user("scrape it"));
}

let browser: Browser | undefined;
let dashboard: Dashboard | undefined;
afterAll(async () => {
  await browser?.close();
  await dashboard?.close();
});

describe.skipIf(!existsSync(CHROMIUM))("the dashboard in a real headless Chromium", () => {
  it("shows the store's ASF, ERR and CPCS, opens a run's steps, escapes what it shows, follows new runs", async () => {
    const dir = mkdtempSync(join(tmpdir(), "aw-dash-"));
    const store = join(dir, "runs.jsonl");
    const warden = new Warden({ tracing: false, prices: TEST_PRICES, store });
    await runBatch(warden); // 5 tasks: ASF 2/5, failures 4 (1 recovered), cost $0.0044 over 2 completed subtasks
    await hostileTask(warden); // a success with one unrecovered tool failure, cost 0, no completed subtask
    // 6 tasks: ASF 3/6 = 50.0%; ERR 1/5 = 20.0%; CPCS $0.0044 / 2 = $0.002200
    dashboard = await serveDashboard(store, { port: 0 });
    expect(dashboard.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const requests: string[] = [];
    page.on("request", (r) => requests.push(r.url()));
    await page.goto(dashboard.url);
    await page.waitForFunction(() => document.querySelector('[data-testid="asf"]')?.textContent !== "–");
    expect(await page.textContent('[data-testid="asf"]')).toBe("50.0%");
    expect(await page.textContent('[data-testid="err"]')).toBe("20.0%");
    expect(await page.textContent('[data-testid="cpcs"]')).toBe("$0.002200");
    expect(await page.textContent("#tile-asf .sub")).toBe("3 of 6 tasks succeeded · 6 tasks");
    expect(await page.textContent("#tile-err .sub")).toBe("1 of 5 failures recovered (0 injected, 1 organic)");
    expect(await page.locator("#agents tr").count()).toBe(4); // header + assistant, researcher, scraper
    // No run carries a version or a guard decision: those filters are not offered.
    expect(await page.locator("#f-version").isVisible()).toBe(false);
    expect(await page.locator("#f-guard").isVisible()).toBe(false);
    expect(await page.locator("#f-agent").isVisible()).toBe(true);

    // Open the researcher's run (the flaky tool recovered) and read its steps.
    await page.locator("tr.run", { hasText: "researcher" }).click();
    await page.waitForSelector('[data-testid="step"]');
    const steps = (await page.locator('[data-testid="step"] .name').allTextContents()).map((t) =>
      t.replace(/\u00a0/g, " ").trimEnd(),
    );
    expect(steps).toEqual([
      "agent researcher",
      "  agent",
      "    chat test-model",
      "  tools",
      "    tool flaky2",
      "  agent",
      "    chat test-model",
      "  tools",
      "    tool flaky2",
      "  agent",
      "    chat test-model",
    ]);
    expect(await page.locator(".step.error").count()).toBe(1);
    expect(await page.textContent("#run-title")).toMatch(/^Run researcher · success · /);

    // The hostile error is shown as text and never runs.
    await page.locator("tr.run", { hasText: "scraper" }).click();
    await page.waitForFunction(() => document.querySelector("#run-title")?.textContent?.startsWith("Run scraper"));
    const errors = await page.locator("#run .err").allTextContents();
    expect(errors.some((e) => e.includes(hostile))).toBe(true);
    expect(await page.evaluate(() => window.__pwned)).toBeUndefined();
    expect(await page.locator("#run script, #run img").count()).toBe(0);

    mkdirSync(join(process.cwd(), "test", "artifacts"), { recursive: true });
    await page.screenshot({ path: join(process.cwd(), "test", "artifacts", "dashboard-batch.png"), fullPage: true });

    // An application keeps writing: the page follows.
    await hostileTask(warden);
    await page.waitForFunction(
      () => document.querySelector("#tile-asf .sub")?.textContent?.endsWith("· 7 tasks"),
      undefined,
      { timeout: 10_000 },
    );
    expect(await page.textContent('[data-testid="asf"]')).toBe("57.1%");
    // Nothing was loaded from anywhere but the dashboard itself.
    expect(requests.every((u) => u.startsWith(dashboard?.url ?? "-"))).toBe(true);
  }, 60_000);
});

describe("npm run demo", () => {
  it("exits 0 when told not to serve, and the figures it prints match its store", () => {
    const dir = mkdtempSync(join(tmpdir(), "aw-demo-"));
    const store = join(dir, "demo.jsonl");
    const out = execFileSync("npx", ["tsx", "examples/demo.ts", "--no-serve", `--store=${store}`], {
      encoding: "utf8",
      timeout: 120_000,
    });
    const read = readStore(store);
    expect(read.errors).toEqual([]);
    const success = read.summaries.filter((s) => s.outcome === "success").length;
    const failure = read.summaries.filter((s) => s.outcome === "failure").length;
    expect(out).toContain(
      `tasks: ${read.summaries.length} (${success} success, ${failure} failure, 0 cancelled, 0 interrupted)`,
    );
    const asf = ((success / (success + failure)) * 100).toFixed(1);
    expect(out).toMatch(new RegExp(`ASF\\s+${asf.replace(".", "\\.")}%`));
    const cost = read.summaries.reduce((a, s) => a + s.costUsd, 0);
    const completed = read.summaries.reduce((a, s) => a + s.completedSubtasks, 0);
    expect(out).toContain(`$${(cost / completed).toFixed(6)}`);
    expect(read.summaries.some((s) => s.trips.loop === 1)).toBe(true);
    expect(read.summaries.some((s) => s.trips.cost === 1)).toBe(true);
    expect(read.summaries.some((s) => s.recoveredInjected.eval === 1)).toBe(true);
    expect(readFileSync(store, "utf8").trimEnd().split("\n")).toHaveLength(read.summaries.length);
  }, 120_000);
});
