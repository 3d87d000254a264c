export { AgentWardenError, isAgentWardenError } from "./errors.js";
export type { ErrorHook } from "./hub.js";
export {
  DEFAULT_CAPTURE_CONTENT,
  DEFAULT_MAX_CONTENT_LENGTH,
  DEFAULT_TRACING,
  type Vocabulary,
  type WardenOptions,
} from "./options.js";
export { type ContentField, type Redactor, redactSecrets, redactWith } from "./redact.js";
export { Run, type StepCounts, type TaskOutcome } from "./run/run.js";
export { currentRun, currentStep, registerScopeResolver, runInStep } from "./run/scope.js";
export {
  type ChatInfo,
  type GraphInfo,
  type NodeInfo,
  Step,
  type StepError,
  type StepEvent,
  type StepKind,
  type StepStatus,
  type ToolInfo,
} from "./run/step.js";
export type { TokenUsage } from "./run/usage.js";
export type { Subscriber } from "./subscriber.js";
export { type ExporterLike, guardExporter } from "./telemetry/guardExporter.js";
export { TRACER_NAME, TracingSubscriber } from "./telemetry/tracing.js";
export { Warden, type WardenStats } from "./warden.js";
