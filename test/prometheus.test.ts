import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { servePrometheus } from "../adapters/prometheus/index.js";
import { Warden } from "../src/index.js";
import { runBatch, TEST_PRICES } from "./support/agents.js";

const prometheusBinary = (() => {
  try {
    return execFileSync("sh", ["-c", "command -v prometheus"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
})();

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function query(
  base: string,
  promql: string,
): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await res.json()) as {
    status: string;
    data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
  };
  if (body.status !== "success") throw new Error(`query failed: ${JSON.stringify(body)}`);
  return body.data.result;
}

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill("SIGKILL");
});

describe.skipIf(!prometheusBinary)("a real Prometheus scraping the helper's endpoint", () => {
  it("computes the batch's ASF, ERR and CPCS in PromQL from the exported counters", async () => {
    const port = await freePort();
    const endpoint = await servePrometheus({ port });
    expect(endpoint.url).toBe(`http://127.0.0.1:${port}/metrics`);
    const warden = new Warden({ tracing: false, prices: TEST_PRICES, meterProvider: endpoint.meterProvider });
    await runBatch(warden);

    const scrape = await (await fetch(endpoint.url)).text();
    expect(scrape).toMatch(/agentwarden_tasks_total\{agent="assistant",outcome="failure"[^}]*\} 3/);
    expect(scrape).toMatch(/agentwarden_tasks_total\{agent="researcher",outcome="success"[^}]*\} 1/);

    const dir = mkdtempSync(join(tmpdir(), "aw-prom-"));
    const config = join(dir, "prometheus.yml");
    writeFileSync(
      config,
      [
        "global:",
        "  scrape_interval: 1s",
        "scrape_configs:",
        "  - job_name: agentwarden",
        "    static_configs:",
        `      - targets: ["127.0.0.1:${port}"]`,
        "",
      ].join("\n"),
    );
    const promPort = await freePort();
    const prom = spawn(
      prometheusBinary as string,
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      { stdio: "ignore" },
    );
    children.push(prom);
    const base = `http://127.0.0.1:${promPort}`;

    const asfQuery =
      'sum(agentwarden_tasks_total{outcome="success"}) / sum(agentwarden_tasks_total{outcome=~"success|failure"})';
    let asf: number | undefined;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      try {
        const result = await query(base, asfQuery);
        if (result[0]) {
          asf = Number(result[0].value[1]);
          break;
        }
      } catch {
        // Prometheus still starting
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(asf).toBe(0.4);
    const err = await query(base, "sum(agentwarden_recoveries_total) / sum(agentwarden_failures_total)");
    expect(Number(err[0]?.value[1])).toBe(0.25);
    const cpcs = await query(base, "sum(agentwarden_cost_usd_total) / sum(agentwarden_subtasks_completed_total)");
    expect(Number(cpcs[0]?.value[1])).toBeCloseTo(0.0022, 12);
    // Every query of the Grafana dashboard in examples/ is valid PromQL, and its ASF panel agrees.
    const dashboard = JSON.parse(readFileSync("examples/grafana/agentwarden-dashboard.json", "utf8")) as {
      panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
    };
    const expand = (expr: string) =>
      expr
        .replaceAll("$agent", ".*")
        .replaceAll("$version", ".*")
        .replaceAll("$__range", "1h")
        .replaceAll("$__rate_interval", "1m");
    for (const panel of dashboard.panels) {
      for (const t of panel.targets) await query(base, expand(t.expr));
    }
    // The panel uses increase() over the range: the counters must move while Prometheus watches.
    await runBatch(warden);
    const asfPanel = dashboard.panels.find((p) => p.title.startsWith("ASF ·"));
    let asfGrafana = Number.NaN;
    const until = Date.now() + 30_000;
    while (Number.isNaN(asfGrafana) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 500));
      asfGrafana = Number((await query(base, expand(asfPanel?.targets[0]?.expr ?? "")))[0]?.value[1] ?? Number.NaN);
    }
    expect(asfGrafana).toBeCloseTo(0.4, 6);
    prom.kill("SIGTERM");
    await endpoint.close();
  }, 90_000);
});

describe("the Prometheus endpoint helper", () => {
  it("port 0 listens on an ephemeral port and reports it in its URL", async () => {
    const endpoint = await servePrometheus({ port: 0 });
    try {
      const port = Number(/^http:\/\/127\.0\.0\.1:(\d+)\/metrics$/.exec(endpoint.url)?.[1]);
      expect(port).toBeGreaterThan(0);
      expect(port).not.toBe(9464);
      const res = await fetch(endpoint.url);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
      expect((await fetch(new URL("/other", endpoint.url))).status).toBe(404);
    } finally {
      await endpoint.close();
    }
    // Closed: nothing listens there any more.
    await expect(fetch(endpoint.url)).rejects.toThrow();
  });

  it("answers only requests addressed to its bound address (DNS rebinding)", async () => {
    const endpoint = await servePrometheus({ port: 0 });
    try {
      const url = new URL(endpoint.url);
      const scrape = (host: string) =>
        new Promise<[number, string]>((resolve, reject) => {
          const req = httpRequest({ host: "127.0.0.1", port: url.port, path: "/metrics", headers: { host } }, (res) => {
            let body = "";
            res.on("data", (c: Buffer) => {
              body += c.toString();
            });
            res.on("end", () => resolve([res.statusCode ?? 0, body]));
          });
          req.on("error", reject);
          req.end();
        });
      expect(await scrape(`rebind.example:${url.port}`)).toEqual([403, "agentwarden: host not allowed\n"]);
      expect((await scrape(`127.0.0.1:${url.port}`))[0]).toBe(200);
      expect((await scrape(`localhost:${url.port}`))[0]).toBe(200);
    } finally {
      await endpoint.close();
    }
  });
});
