import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { MeterProvider as MeterProviderApi } from "@opentelemetry/api";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { hostCheck } from "../../src/http/hostCheck.js";

export interface PrometheusOptions {
  /** Port to listen on; 0 picks a free one (the URL reports it). Default 9464 (`DEFAULT_PROMETHEUS_PORT`). */
  port?: number;
  /** Address to bind. Default `127.0.0.1`: reachable from this machine only. */
  host?: string;
  /** Path of the scrape endpoint. Default `/metrics`. */
  endpoint?: string;
  /**
   * Names the endpoint may be scraped by besides `localhost`, `127.0.0.1`, `[::1]` and the bound
   * address (and, bound to all interfaces, any IP address). Other `Host`s are refused (403), which
   * stops DNS rebinding. Default none.
   */
  allowedHosts?: string[];
}

export const DEFAULT_PROMETHEUS_PORT = 9464;

export interface PrometheusEndpoint {
  /** Pass to `new Warden({ meterProvider })`. */
  meterProvider: MeterProviderApi;
  url: string;
  close(): Promise<void>;
}

/**
 * Serves agentwarden's metrics for Prometheus to scrape: an OpenTelemetry MeterProvider whose
 * reader is `@opentelemetry/exporter-prometheus`, served by our own server (so port 0 means a free
 * port, and requests not addressed to the bound address are refused), on 127.0.0.1 unless told
 * otherwise.
 */
export async function servePrometheus(options: PrometheusOptions = {}): Promise<PrometheusEndpoint> {
  const { port = DEFAULT_PROMETHEUS_PORT, host = "127.0.0.1", allowedHosts } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`agentwarden: option port must be an integer from 0 to 65535, got ${port}`);
  }
  const endpoint = (options.endpoint ?? "/metrics").replace(/^([^/])/, "/$1");
  const exporter = new PrometheusExporter({ preventServerStart: true });
  let check: ReturnType<typeof hostCheck> | undefined;
  const server = createServer(function scrape(req, res) {
    const refused = check ? check(req, false) : "not listening";
    if (refused) {
      res.writeHead(403, { "content-type": "text/plain" }).end(`agentwarden: ${refused}\n`);
      return;
    }
    let path: string;
    try {
      path = new URL(req.url ?? "/", "http://localhost").pathname;
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (path !== endpoint) res.writeHead(404).end();
    else exporter.getMetricsRequestHandler(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  check = hostCheck({ host, port: actual, allowedHosts });
  const meterProvider = new MeterProvider({ readers: [exporter] });
  return {
    meterProvider,
    url: `http://${host.includes(":") ? `[${host}]` : host}:${actual}${endpoint}`,
    async close() {
      await meterProvider.shutdown();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
