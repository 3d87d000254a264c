import type { ToolErrorHandler } from "./ToolFailure.js";

/** Retries of transient failures: attempts in all (the first included), and the backoff's bounds. */
export interface RetryConfig {
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

/** Tool recovery as resolved from the `recovery` option (every field set). */
export interface RecoveryConfig {
  retry: RetryConfig | false;
  /** A fallback tool per tool name (a null-prototype table). */
  fallbacks: Record<string, unknown>;
  correctiveMessages: boolean;
  onToolError: ToolErrorHandler | undefined;
}
