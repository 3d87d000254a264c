import { type Context, TraceFlags } from "@opentelemetry/api";
import {
  BatchSpanProcessor,
  type ReadableSpan,
  type Span,
  type SpanExporter,
  type SpanProcessor,
} from "@opentelemetry/sdk-trace";
import { type ErrorHook, guardExporter } from "../../src/index.js";

export interface SpanQueueOptions {
  /** Spans waiting for export at most; above it a span is dropped and counted. Default 2048 (as the SDK). */
  maxQueueSize?: number;
  /** Spans per export call at most. Default 512; at most `maxQueueSize`. */
  maxExportBatchSize?: number;
  /** Delay between two scheduled exports, in ms. Default 5000 (as the SDK). */
  scheduledDelayMillis?: number;
  /** How long an export may run before the next batch starts, in ms. Default 30000 (as the SDK). */
  exportTimeoutMillis?: number;
  /**
   * Receives each dropped span (source `spans:dropped`) and each failed export (`exporter:spans`):
   * pass `(e, s) => warden.reportError(e, s)` to have them counted in `warden.stats().telemetryErrors`.
   */
  onError?: ErrorHook;
}

/** Where every span handed to the queue is, at any time: `accepted = queued + inFlight + exported + failed`. */
export interface SpanQueueStats {
  /** Sampled spans taken into the queue. */
  accepted: number;
  /** Waiting for export. */
  queued: number;
  /** Handed to the exporter, no result yet. */
  inFlight: number;
  exported: number;
  /** In an export the exporter reported failed (or threw). */
  failed: number;
  /** Not taken: the queue was full (or the processor shut down). Never exported, always counted. */
  dropped: number;
}

const DROP_SOURCE = "spans:dropped";

/**
 * A batching span processor with a bounded queue whose every drop is counted: the SDK's
 * `BatchSpanProcessor` does the batching, scheduling and timeouts; this bounds its queue itself and
 * counts what the SDK only logs through `diag` (and resets). Span end stays a synchronous push: a
 * slow, hanging or failing exporter never makes the agent wait, and the spans held (waiting, or
 * handed to an exporter that has not answered) never exceed `maxQueueSize + maxExportBatchSize`.
 */
export class SpanQueue implements SpanProcessor {
  private readonly inner: BatchSpanProcessor;
  private readonly maxQueueSize: number;
  private readonly onError: ErrorHook | undefined;
  private readonly maxHeld: number;
  private readonly dropped: Error;
  private readonly afterShutdown = new Error("span dropped: the span processor is shut down");
  private closed = false;
  private readonly counts: SpanQueueStats = { accepted: 0, queued: 0, inFlight: 0, exported: 0, failed: 0, dropped: 0 };

  constructor(exporter: SpanExporter, options: SpanQueueOptions = {}) {
    const o = resolve(options);
    this.maxQueueSize = o.maxQueueSize;
    this.maxHeld = o.maxQueueSize + o.maxExportBatchSize;
    this.onError = options.onError;
    this.dropped = new Error(
      `span dropped: the export queue is full (maxQueueSize ${o.maxQueueSize}, or ${o.maxQueueSize + o.maxExportBatchSize} with the batches in flight)`,
    );
    const guarded = guardExporter(exporter, (error, source) => this.report(error, source), "spans");
    const counts = this.counts;
    const counting: SpanExporter = {
      export(spans, done) {
        const n = spans.length;
        counts.queued -= n;
        counts.inFlight += n;
        let settled = false;
        guarded.export(spans, (result) => {
          // An exporter may call back twice (or call back, then throw): a batch is counted once.
          if (settled) return;
          settled = true;
          counts.inFlight -= n;
          if (result.code === 0) counts.exported += n;
          else counts.failed += n;
          done(result);
        });
      },
      shutdown: () => guarded.shutdown(),
      forceFlush: async () => {
        await guarded.forceFlush?.();
      },
    };
    // The inner queue is never the one that fills: this one stops at `maxQueueSize`, counting.
    this.inner = new BatchSpanProcessor({
      exporter: counting,
      maxQueueSize: o.maxQueueSize + o.maxExportBatchSize,
      maxExportBatchSize: o.maxExportBatchSize,
      scheduledDelayMillis: o.scheduledDelayMillis,
      exportTimeoutMillis: o.exportTimeoutMillis,
    });
  }

  onStart(span: Span, parentContext: Context): void {
    this.inner.onStart(span, parentContext);
  }

  onEnd(span: ReadableSpan): void {
    if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    // Batches the exporter has not answered count too: after an export timeout the SDK starts the
    // next batch while the exporter still holds the last one, so a hanging exporter would otherwise
    // accumulate batch after batch.
    const held = this.counts.queued + this.counts.inFlight;
    if (this.closed || this.counts.queued >= this.maxQueueSize || held >= this.maxHeld) {
      this.counts.dropped++;
      this.report(this.closed ? this.afterShutdown : this.dropped, DROP_SOURCE);
      return;
    }
    this.counts.accepted++;
    this.counts.queued++;
    this.inner.onEnd(span);
  }

  /** The counts so far (a copy). */
  stats(): SpanQueueStats {
    return { ...this.counts };
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  shutdown(): Promise<void> {
    this.closed = true;
    return this.inner.shutdown();
  }

  private report(error: unknown, source: string): void {
    try {
      this.onError?.(error, source);
    } catch {
      // Counted in stats(); a failing hook must not reach the agent.
    }
  }
}

function resolve(options: SpanQueueOptions): Required<Omit<SpanQueueOptions, "onError">> {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("agentwarden: SpanQueue options must be an object");
  }
  const int = (field: keyof SpanQueueOptions, fallback: number, min: number): number => {
    const value = options[field];
    if (value === undefined) return fallback;
    if (typeof value !== "number" || !Number.isInteger(value)) {
      throw new TypeError(`agentwarden: SpanQueue ${field} must be an integer, got ${String(value)}`);
    }
    if (value < min) throw new RangeError(`agentwarden: SpanQueue ${field} must be >= ${min}, got ${value}`);
    return value;
  };
  const maxQueueSize = int("maxQueueSize", 2048, 1);
  const maxExportBatchSize = int("maxExportBatchSize", Math.min(512, maxQueueSize), 1);
  if (maxExportBatchSize > maxQueueSize) {
    throw new RangeError(
      `agentwarden: SpanQueue maxExportBatchSize (${maxExportBatchSize}) must be <= maxQueueSize (${maxQueueSize})`,
    );
  }
  if (options.onError !== undefined && typeof options.onError !== "function") {
    throw new TypeError("agentwarden: SpanQueue onError must be a function (error, source) => void");
  }
  return {
    maxQueueSize,
    maxExportBatchSize,
    scheduledDelayMillis: int("scheduledDelayMillis", 5000, 0),
    exportTimeoutMillis: int("exportTimeoutMillis", 30_000, 1),
  };
}
