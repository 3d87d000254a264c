import type { ErrorHook } from "../hub.js";

/** The shape of an OpenTelemetry SDK exporter (spans, metrics or logs), without importing an SDK. */
export interface ExporterLike<Item> {
  export(items: Item, resultCallback: (result: { code: number; error?: Error }) => void): void;
  shutdown(): Promise<void>;
  forceFlush?(): Promise<void>;
}

const FAILED = 1;

/**
 * Wraps an exporter so that its failures (a synchronous throw, a failed result, a rejected flush
 * or shutdown) are counted and reported through `onError` (e.g. `warden.reportError`) under
 * `exporter:{name}`, and never reach the processor as an exception. The SDK's processors already
 * keep exporter failures away from the agent; this makes them visible where agentwarden reports.
 */
export function guardExporter<Item, E extends ExporterLike<Item>>(exporter: E, onError: ErrorHook, name = "spans"): E {
  const source = `exporter:${name}`;
  const guarded: ExporterLike<Item> = {
    export(items, resultCallback) {
      // One result per export, whatever the exporter does (call back twice, call back then throw).
      let settled = false;
      const settle = (result: { code: number; error?: Error }) => {
        if (settled) return;
        settled = true;
        resultCallback(result);
      };
      try {
        exporter.export(items, (result) => {
          if (result.code === FAILED && !settled) onError(result.error ?? new Error("export failed"), source);
          settle(result);
        });
      } catch (error) {
        onError(error, source);
        settle({ code: FAILED, error: error instanceof Error ? error : new Error(String(error)) });
      }
    },
    async shutdown() {
      try {
        await exporter.shutdown();
      } catch (error) {
        onError(error, source);
      }
    },
    async forceFlush() {
      try {
        await exporter.forceFlush?.();
      } catch (error) {
        onError(error, source);
      }
    },
  };
  return Object.assign(Object.create(exporter) as E, guarded);
}
