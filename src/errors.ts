const brand = Symbol.for("agentwarden.error");

/**
 * Base class of the errors agentwarden raises on purpose (never of the errors it observes in tools
 * and models). `code` is stable across versions; `data` is structured detail.
 */
export class AgentWardenError<Data extends object = Record<string, unknown>> extends Error {
  readonly code: string;
  readonly data: Data;

  constructor(code: string, message: string, data: Data, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AgentWardenError";
    this.code = code;
    this.data = data;
    Object.defineProperty(this, brand, { value: true });
  }
}

/** True for an error raised by agentwarden, even from another copy of the package. */
export function isAgentWardenError(error: unknown): error is AgentWardenError {
  return typeof error === "object" && error !== null && (error as Record<symbol, unknown>)[brand] === true;
}
