export { type CompareStoresOptions, compareStores, formatComparison } from "./cli/compare.js";
export { aggregate, formatReport, reportStore, type StoreReport } from "./cli/report.js";
export { formatSteps } from "./cli/tree.js";
export {
  type DashboardData,
  type RunQuery,
  type RunRow,
  type RunView,
  type ScoreRow,
  StoreFollower,
  type StoreFollowerOptions,
  type TrendPoint,
  type TripRow,
  type VersionRow,
} from "./dashboard/data.js";
export { type LiveEvent, type LiveRun, LiveRuns } from "./dashboard/LiveRuns.js";
export type { LiveFeed } from "./dashboard/live.js";
export {
  type Dashboard,
  type DashboardOptions,
  DEFAULT_DASHBOARD_PORT,
  MAX_LIVE_BUFFER,
  MAX_LIVE_STREAMS,
  serveDashboard,
} from "./dashboard/server.js";
export { AgentWardenError, isAgentWardenError } from "./errors.js";
export {
  ARGUS_WEIGHT_PROFILES,
  type ArgusDimension,
  type ArgusGarvisScores,
  type ArgusProfile,
  type ArgusRequest,
  type ArgusSelect,
  type ArgusWeights,
  argusGarvisEvaluator,
  argusGarvisScores,
  argusNormalizedWeights,
  argusRequestOf,
} from "./evals/builtin/argusGarvis.js";
export {
  type Conversation,
  type ConversationSelect,
  contentText,
  readConversation,
} from "./evals/builtin/conversation.js";
export { type GroundednessOptions, groundednessCheck, groundednessJudge } from "./evals/builtin/groundedness.js";
export {
  emptyAnswerCheck,
  type ReliabilityCheckOptions,
  type ReliabilityKind,
  refusalCheck,
  reliabilityCheck,
  structuredOutputCheck,
  truncationCheck,
} from "./evals/builtin/reliability.js";
export {
  CREDENTIAL_KINDS,
  findInjection,
  findPii,
  type InjectionCheckOptions,
  injectionCheck,
  type PiiCheckOptions,
  piiCheck,
  safetyJudge,
} from "./evals/builtin/safety.js";
export {
  containsCheck,
  type JudgeModel,
  judgeCheck,
  judgeVerdict,
  lastMessageText,
  predicateCheck,
  regexCheck,
  type Select,
  schemaCheck,
} from "./evals/checks.js";
export { type EvalResult, type Evaluator, type Finding, toEvalResult } from "./evals/Evaluator.js";
export { DEFAULT_FEEDBACK_NAME, type FeedbackInput, feedbackRecord, recordFeedback } from "./feedback.js";
export type { ErrorHook } from "./hub.js";
export {
  ARGUS_DEFAULT_BUDGET_PER_STEP,
  type ArgusCounts,
  type ArgusScores,
  argusCounts,
  argusScores,
} from "./metrics/argus.js";
export { METRIC_PREFIX } from "./metrics/instruments.js";
export {
  type MetricsSnapshot,
  MetricsSubscriber,
  type ModelSnapshot,
  OTHER_KEY,
  type ToolSnapshot,
} from "./metrics/MetricsSubscriber.js";
export {
  type FailureKind,
  type KindCounts,
  MAX_STEP_RECORDS,
  type ModelFigures,
  type NodeFigures,
  type StepRecord,
  type SubtaskRule,
  summarize,
  type TaskSummary,
  type ToolFigures,
} from "./metrics/summary.js";
export { emptyTotals, type Figures, figures, type Totals } from "./metrics/totals.js";
export {
  DEFAULT_CAPTURE_CONTENT,
  DEFAULT_FLUSH_TIMEOUT_MS,
  DEFAULT_MAX_CONTENT_LENGTH,
  DEFAULT_MAX_KEYS,
  DEFAULT_MAX_OUTPUT_TOKENS,
  DEFAULT_RETRY,
  DEFAULT_TRACING,
  DEFAULT_WINDOW_SECONDS,
  DEFAULT_WINDOW_TASKS,
  type MetricsOptions,
  type RecoveryOptions,
  type ToolErrorContext,
  type Vocabulary,
  type WardenOptions,
} from "./options.js";
export type { TripAction } from "./policies/BreakersConfig.js";
export type { BudgetContext, BudgetStore, RateLimit, SharedBudget } from "./policies/budgetStore.js";
export { MemoryBudgetStore, StateBudgetStore } from "./policies/budgetStore.js";
export { type FailureClass, failureClass } from "./policies/failureClass.js";
export {
  DEFAULT_REFUSAL,
  decideGuard,
  type EscalationPayload,
  type EscalationResume,
  type GuardAction,
  type GuardDecision,
  type GuardFinding,
  type GuardPoint,
  type GuardRule,
  type GuardsConfig,
  type GuardVerdict,
  parseGuards,
  parseResume,
  redactionMark,
  splitReask,
} from "./policies/guards/guards.js";
export {
  blockTask,
  GUARD_BLOCKED,
  type GuardSubject,
  runGuards,
  settleEscalation,
} from "./policies/guards/runGuards.js";
export { type Limits, MAX_TIMER_MS, mergeLimits, parseLimits } from "./policies/limits.js";
export {
  canonical,
  DEFAULT_LOOP_REPEATS,
  DEFAULT_LOOP_WINDOW,
  type LoopOptions,
  normalizeText,
} from "./policies/loops.js";
export { correctiveText } from "./policies/recovery/correctiveText.js";
export { handlerText, planRecovery, type RecoveryDecision } from "./policies/recovery/planRecovery.js";
export type { RecoveryConfig, RetryConfig } from "./policies/recovery/RecoveryConfig.js";
export { retryTransient } from "./policies/recovery/retryTransient.js";
export type { ToolErrorHandler } from "./policies/recovery/ToolFailure.js";
export { type BreakerAskPayload, type Decision, type ModelCallEstimate, TaskGuard } from "./policies/TaskGuard.js";
export {
  DEFAULT_HALF_OPEN_AFTER_MS,
  DEFAULT_TOOL_BREAKER_FAILURES,
  type ToolBreakerOptions,
  type ToolBreakerState,
  ToolBreakers,
} from "./policies/ToolBreakers.js";
export {
  BREAKER_TRIP,
  type BreakerTripData,
  BreakerTripError,
  isBreakerTrip,
  type SubgraphState,
  TOOL_BREAKER_OPEN,
  ToolBreakerOpenError,
  type Trip,
  type TripKind,
} from "./policies/trip.js";
export { DEFAULT_PRICES, DEFAULT_PRICES_DATE } from "./pricing/defaultPrices.js";
export { type ModelPrice, PriceTable } from "./pricing/PriceTable.js";
export { type CompareOptions, type Comparison, compareVersions, type MetricComparison } from "./quality/compare.js";
export { type OnlineEvalStats, OnlineEvaluation, sampled } from "./quality/online.js";
export {
  DEFAULT_ONLINE_CONCURRENCY,
  DEFAULT_ONLINE_OUTCOMES,
  DEFAULT_ONLINE_QUEUE_SIZE,
  DEFAULT_ONLINE_SAMPLE_RATE,
  DEFAULT_ONLINE_TIMEOUT_MS,
  type JudgeContext,
  type OnlineEvalOptions,
  type OnlineEvaluator,
  type OnlineTask,
} from "./quality/onlineOptions.js";
export { addScore, type ScoreFigures, type ScoreStats, scoreFigures } from "./quality/scores.js";
export { NO_VERSION, type VersionFigures, VersionTable } from "./quality/versions.js";
export {
  type ContentField,
  findSecrets,
  type Redactor,
  redactSecrets,
  redactWith,
  SECRET_KINDS,
  type SecretSpan,
} from "./redact.js";
export { Run, type StepCounts, type TaskOutcome } from "./run/run.js";
export { currentRun, currentStep, registerScopeResolver, runInStep } from "./run/scope.js";
export {
  type ChatInfo,
  type ChatRequestParams,
  type EvalInfo,
  type GraphInfo,
  type GuardInfo,
  type McpInfo,
  type NodeInfo,
  type RecoveryAction,
  type RecoveryInfo,
  Step,
  type StepError,
  type StepEvent,
  type StepKind,
  type StepStatus,
  type ToolInfo,
} from "./run/step.js";
export type { TokenUsage } from "./run/usage.js";
export { MemoryStateStore } from "./state/MemoryStateStore.js";
export type { MaybePromise, Reserved, ReserveLine, StateStore, Taken } from "./state/StateStore.js";
export { isStateUnavailable, STATE_UNAVAILABLE, StateUnavailableError } from "./state/StateStore.js";
export { FileStore } from "./store/FileStore.js";
export { readStore, type StoreLineError, type StoreRead, type StoreVisitor } from "./store/readStore.js";
export type { EvalRecord } from "./store/records.js";
export { type ScanOptions, scanStore } from "./store/scanStore.js";
export type { Subscriber } from "./subscriber.js";
export { boundedName, MAX_NAME_LENGTH } from "./tables.js";
export {
  GEN_AI_EVALUATION_RESULT,
  type LoggerLike,
  type LoggerProviderLike,
} from "./telemetry/evaluationEvents.js";
export { type ExporterLike, guardExporter } from "./telemetry/guardExporter.js";
export { TRACER_NAME, TracingSubscriber } from "./telemetry/tracing.js";
export { Warden, type WardenStats } from "./warden.js";
