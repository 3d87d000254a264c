import { execFileSync, spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { servePrometheus } from "../adapters/prometheus/index.js";
import { Warden } from "../src/index.js";
import { runBatch, TEST_PRICES } from "./support/agents.js";

const promtool = (() => {
  try {
    return execFileSync("sh", ["-c", "command -v promtool"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
})();

const RULES = "examples/alerts/agentwarden-rules.yml";
const TESTS = "test/alerts";
const testFiles = readdirSync(TESTS).filter((f) => f.endsWith(".test.yml"));

interface RuleFile {
  groups: Array<{ rules: Array<{ alert: string; expr: string }> }>;
}

const rules = (parse(readFileSync(RULES, "utf8")) as RuleFile).groups.flatMap((g) => g.rules);

if (!promtool) {
  console.warn(
    "alerts.test.ts: promtool not found — the alert rule unit tests are SKIPPED (install Debian's prometheus package; scripts/system-deps.sh does)",
  );
}

describe.skipIf(!promtool)("the Prometheus alerting rules (promtool test rules)", () => {
  it("are valid rules", () => {
    const r = spawnSync(promtool as string, ["check", "rules", RULES], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(r.status).toBe(0);
  });

  for (const file of testFiles) {
    it(`pass the unit tests of ${file}: each rule fires on its series and stays silent on the others`, () => {
      const r = spawnSync(promtool as string, ["test", "rules", join(TESTS, file)], {
        encoding: "utf8",
        timeout: 120_000,
      });
      expect(`${r.stdout}${r.stderr}`).toContain("SUCCESS");
      expect(r.status).toBe(0);
    }, 120_000);
  }

  it("test every rule, each with a case where it fires and one where it stays silent", () => {
    const tested = testFiles.flatMap((f) => {
      const doc = parse(readFileSync(join(TESTS, f), "utf8")) as {
        tests: Array<{ alert_rule_test: Array<{ alertname: string; exp_alerts: unknown[] }> }>;
      };
      return doc.tests.flatMap((t) => t.alert_rule_test);
    });
    for (const { alert } of rules) {
      const cases = tested.filter((t) => t.alertname === alert);
      expect(
        cases.some((c) => c.exp_alerts.length > 0),
        `${alert} fires somewhere`,
      ).toBe(true);
      expect(
        cases.some((c) => c.exp_alerts.length === 0),
        `${alert} is silent somewhere`,
      ).toBe(true);
    }
  });
});

describe("the metrics the alert rules and Grafana panels read", () => {
  it("are the names agentwarden exports", async () => {
    const endpoint = await servePrometheus({ port: 0 });
    const warden = new Warden({
      tracing: false,
      prices: TEST_PRICES,
      meterProvider: endpoint.meterProvider,
      toolBreaker: {},
      online: {
        evaluators: [
          {
            name: "judge",
            evaluate: (_task, { charge }) => {
              charge("test-model", { input: 100, output: 0 });
              return { pass: true, score: 1 };
            },
          },
        ],
        sampleRate: 1,
      },
    });
    await runBatch(warden);
    await warden.flush();
    const scrape = await (await fetch(endpoint.url)).text();
    await endpoint.close();
    const exported = new Set([...scrape.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/gm)].map((m) => m[1] as string));
    const dashboard = readFileSync("examples/grafana/agentwarden-dashboard.json", "utf8");
    const used = new Set(
      [
        ...`${rules.map((r) => r.expr).join("\n")}\n${dashboard}`.matchAll(
          /\b((?:agentwarden|gen_ai)_[a-z0-9_]+)(?=[{[])/g,
        ),
      ].map((m) => m[1] as string),
    );
    // Breaker trips, evaluation drops and TTFT need a trip, a full queue and a streamed call: they are exported under these names
    // once one happens (the batch has neither).
    const needsEvent = new Set([
      "agentwarden_breaker_trips_total",
      "agentwarden_eval_dropped_total",
      "gen_ai_client_inference_time_to_first_chunk_bucket",
    ]);
    expect(used.has("agentwarden_task_cost_usd_bucket") && used.has("agentwarden_eval_score_sum")).toBe(true);
    const missing = [...used].filter((name) => !exported.has(name) && !needsEvent.has(name));
    expect(missing).toEqual([]);
    expect(scrape).toMatch(/agentwarden_model_finish_reasons_total\{[^}]*finish_reason="stop"/);
    expect(scrape).toMatch(/agentwarden_eval_score_count\{[^}]*name="judge"[^}]*agent="assistant"[^}]*\} 4/);
  });
});
