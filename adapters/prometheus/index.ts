import type { MeterProvider as MeterProviderApi } from "@opentelemetry/api";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { MeterProvider } from "@opentelemetry/sdk-metrics";

export interface PrometheusOptions {
  /** Port to listen on. Default 9464 (`DEFAULT_PROMETHEUS_PORT`). */
  port?: number;
  /** Address to bind. Default `127.0.0.1`: reachable from this machine only. */
  host?: string;
  /** Path of the scrape endpoint. Default `/metrics`. */
  endpoint?: string;
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
 * reader is `@opentelemetry/exporter-prometheus`, listening on 127.0.0.1 unless told otherwise.
 */
export async function servePrometheus(options: PrometheusOptions = {}): Promise<PrometheusEndpoint> {
  const { port = DEFAULT_PROMETHEUS_PORT, host = "127.0.0.1", endpoint = "/metrics" } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`agentwarden: option port must be an integer from 0 to 65535, got ${port}`);
  }
  const exporter = new PrometheusExporter({ port, host, endpoint, preventServerStart: true });
  await exporter.startServer();
  const meterProvider = new MeterProvider({ readers: [exporter] });
  return {
    meterProvider,
    url: `http://${host}:${port}${endpoint}`,
    async close() {
      await meterProvider.shutdown();
    },
  };
}
