import type { FailureClass } from "../failureClass.js";

/** A failed tool call, as recovery sees it (and as a tool-error handler is told). */
export interface ToolErrorContext {
  tool: string;
  args: unknown;
  error: { type: string; message: string };
  failureClass: FailureClass;
  /** Attempts made so far (retries included). */
  attempts: number;
}

/** A tool-error handler: the text the model should read, or undefined to go on. */
export type ToolErrorHandler = (context: ToolErrorContext) => string | undefined | Promise<string | undefined>;
