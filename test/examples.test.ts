import { execFileSync, spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

/** Runs an example as the README says to (`npm run example:<name>`), and returns what it printed. */
function run(script: string, args: string[] = [], env: Record<string, string> = {}): string {
  return execFileSync("npx", ["tsx", `examples/${script}`, ...args], {
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, ...env },
  });
}

describe("the README's examples run", () => {
  it("wrap a StateGraph", () => {
    expect(run("stategraph.ts")).toBe(
      "task success: plan×1, gather×2, write×1; cost $0.000025\ndraft: Tides rise twice a day.\n",
    );
  });

  it("wrap createAgent, with a correction loop on its model node", () => {
    expect(run("create-agent.ts")).toBe(
      'task success: 1 eval failure(s), 1 corrected by agentwarden; cost $0.000970\nanswer: {"fahrenheit": 64.4}\n',
    );
  });

  it("instrument an MCP client", () => {
    const out = run("mcp-client.ts");
    expect(out).toMatch(
      /^steps:\nworkflow mcp_example {2}\[[\d.]+ ms\]\n {2}compute {2}\[[\d.]+ ms\]\n {4}tool echo {2}\[[\d.]+ ms\]\n {4}tool get-sum {2}\[[\d.]+ ms\]\ncost \$0\.001\n/,
    );
    expect(out).toContain("Echo: hello MCP / The sum of 20 and 22 is 42");
  });

  it("Prometheus export", () => {
    const out = run("prometheus.ts", ["--once"], { PORT: "0" });
    expect(out).toMatch(/agentwarden_tasks_total\{agent="searcher",outcome="success"[^}]*\} 6/);
    expect(out).toMatch(/agentwarden_failures_total\{agent="searcher",kind="tool"[^}]*\} 2/);
  });

  it("OTLP export to a collector", () => {
    const out = run("otlp.ts", ["--local-collector"]);
    expect(out).toMatch(
      /exported 7 spans to http:\/\/127\.0\.0\.1:\d+\/v1\/traces \(dropped 0, failed 0\); telemetry failures: \{\}/,
    );
    expect(out).toMatch(/the collector received 7 spans: .*invoke_agent otlp_example/);
  });

  it("quality after shipping: versions, online evaluation, feedback, the comparison", () => {
    const out = run("quality.ts");
    expect(out).toContain(
      "v1: 20 tasks, ASF 1, correct 1 (20 evaluated), feedback none\nv2: 20 tasks, ASF 1, correct 0.5 (20 evaluated), feedback 1 down\n",
    );
    // v2 scores ten 1s and ten 0s: variance (10 − 100/20)/19 = 5/19, v1 none; −0.5 ± 1.96·√((5/19)/20) = [−0.725, −0.275]
    expect(out).toMatch(
      /eval:correct\s+1\.000 \(20\)\s+0\.500 \(20\)\s+-0\.500\s+drop ≤ 0\.05\s+FAIL \(95% interval \[-0\.725, -0\.275\]\)/,
    );
    expect(out).toContain("regression: eval:correct beyond threshold");
  });

  it("the quick-start ReAct example prints its span tree", () => {
    const out = run("react-agent.ts");
    expect(out).toContain("task success: 5 node runs, 3 model calls, 3 tool calls (1 failed)");
    expect(out).toMatch(/invoke_agent weather_assistant .*\n {4}agent /);
  });

  it.skipIf(spawnSync("redis-server", ["--version"]).status !== 0)(
    "many workers on one Redis (redis-server installed)",
    () => {
      expect(run("fleet.ts", [], { REDIS_URL: "" })).toBe(
        "4 workers × 5 tasks on one tenant budget of $0.021:\n  calls made 10 (spent $0.020), refused by the shared budget 10\n  without a shared store each worker would have had its own $0.021: 20 calls, $0.040\n",
      );
    },
  );
});
