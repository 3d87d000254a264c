/*
 * Attribute and span names agentwarden emits. The GenAI and MCP conventions are in Development
 * status and live in open-telemetry/semantic-conventions-genai (no tagged release); the names below
 * follow its model files at the commits named in test/fixtures/semconv/SOURCE.md (spans and
 * registry at 002c8a6ea1c8a42b14a4527db83b3cabcded610a), which the conformance test checks every
 * emitted name against. `@opentelemetry/semantic-conventions` 1.45 still ships the older core v1.41
 * names only, marked deprecated, and asks instrumentations to copy unstable names locally rather
 * than import `/incubating` at run time: hence this file.
 */

/** The conventions' commit the emitted names and shapes follow (spans.yaml, registry.yaml). */
export const SEMCONV_GENAI_COMMIT = "002c8a6ea1c8a42b14a4527db83b3cabcded610a";

export const GEN_AI_OPERATION_NAME = "gen_ai.operation.name";
export const GEN_AI_PROVIDER_NAME = "gen_ai.provider.name";
export const GEN_AI_REQUEST_MODEL = "gen_ai.request.model";
export const GEN_AI_RESPONSE_MODEL = "gen_ai.response.model";
export const GEN_AI_RESPONSE_FINISH_REASONS = "gen_ai.response.finish_reasons";
export const GEN_AI_USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens";
export const GEN_AI_USAGE_OUTPUT_TOKENS = "gen_ai.usage.output_tokens";
export const GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS = "gen_ai.usage.cache_read.input_tokens";
/** The registry's name for cache writes on spans (the token counter is `…usage.cache_write.input_tokens`). */
export const GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS = "gen_ai.usage.cache_creation.input_tokens";
export const GEN_AI_USAGE_REASONING_OUTPUT_TOKENS = "gen_ai.usage.reasoning.output_tokens";
export const GEN_AI_REQUEST_STREAM = "gen_ai.request.stream";
export const GEN_AI_REQUEST_MAX_TOKENS = "gen_ai.request.max_tokens";
export const GEN_AI_REQUEST_TEMPERATURE = "gen_ai.request.temperature";
export const GEN_AI_REQUEST_TOP_P = "gen_ai.request.top_p";
export const GEN_AI_REQUEST_TOP_K = "gen_ai.request.top_k";
export const GEN_AI_REQUEST_STOP_SEQUENCES = "gen_ai.request.stop_sequences";
export const GEN_AI_REQUEST_FREQUENCY_PENALTY = "gen_ai.request.frequency_penalty";
export const GEN_AI_REQUEST_PRESENCE_PENALTY = "gen_ai.request.presence_penalty";
export const GEN_AI_REQUEST_SEED = "gen_ai.request.seed";
export const GEN_AI_REQUEST_CHOICE_COUNT = "gen_ai.request.choice.count";
export const GEN_AI_OUTPUT_TYPE = "gen_ai.output.type";
export const GEN_AI_RESPONSE_ID = "gen_ai.response.id";
export const GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK = "gen_ai.response.time_to_first_chunk";
export const GEN_AI_SYSTEM_INSTRUCTIONS = "gen_ai.system_instructions";
export const GEN_AI_TOOL_DEFINITIONS = "gen_ai.tool.definitions";
export const GEN_AI_TOOL_DESCRIPTION = "gen_ai.tool.description";
export const GEN_AI_TOKEN_MODALITY = "gen_ai.token.modality";
export const GEN_AI_PROMPT_NAME = "gen_ai.prompt.name";
export const GEN_AI_AGENT_NAME = "gen_ai.agent.name";
export const GEN_AI_WORKFLOW_NAME = "gen_ai.workflow.name";
export const GEN_AI_CONVERSATION_ID = "gen_ai.conversation.id";
export const GEN_AI_TOOL_NAME = "gen_ai.tool.name";
export const GEN_AI_TOOL_CALL_ID = "gen_ai.tool.call.id";
export const GEN_AI_TOOL_TYPE = "gen_ai.tool.type";
export const GEN_AI_TOOL_CALL_ARGUMENTS = "gen_ai.tool.call.arguments";
export const GEN_AI_TOOL_CALL_RESULT = "gen_ai.tool.call.result";
export const GEN_AI_INPUT_MESSAGES = "gen_ai.input.messages";
export const GEN_AI_OUTPUT_MESSAGES = "gen_ai.output.messages";
/**
 * Node spans: no convention yet. The open proposal (semantic-conventions-genai, `run_step` spans
 * with `gen_ai.step.name`) is what `semconv.nodeSpans: "run_step"` emits; by default node spans are
 * named after the node and carry `langgraph.*` only.
 */
export const OPERATION_RUN_STEP = "run_step";
export const GEN_AI_STEP_NAME = "gen_ai.step.name";

/** GenAI evaluation result attributes (the `gen_ai.evaluation.result` event's), set on eval spans. */
export const GEN_AI_EVALUATION_NAME = "gen_ai.evaluation.name";
export const GEN_AI_EVALUATION_SCORE_VALUE = "gen_ai.evaluation.score.value";
export const GEN_AI_EVALUATION_SCORE_LABEL = "gen_ai.evaluation.score.label";
export const GEN_AI_EVALUATION_EXPLANATION = "gen_ai.evaluation.explanation";

/** MCP conventions (semantic-conventions-genai `main`). */
export const MCP_METHOD_NAME = "mcp.method.name";
export const MCP_PROTOCOL_VERSION = "mcp.protocol.version";
export const MCP_SESSION_ID = "mcp.session.id";
export const MCP_RESOURCE_URI = "mcp.resource.uri";
export const JSONRPC_REQUEST_ID = "jsonrpc.request.id";
export const RPC_RESPONSE_STATUS_CODE = "rpc.response.status_code";
export const NETWORK_TRANSPORT = "network.transport";

/** Stable in the core conventions. */
export const ERROR_TYPE = "error.type";
export const ERROR_TYPE_OTHER = "_OTHER";

export const OPERATION_CHAT = "chat";
/** What the ledger calls a model it could not name; never emitted as `gen_ai.request.model` (no meaningless values). */
export const UNKNOWN_MODEL = "unknown";
export const OPERATION_EXECUTE_TOOL = "execute_tool";
export const OPERATION_INVOKE_AGENT = "invoke_agent";
export const OPERATION_INVOKE_WORKFLOW = "invoke_workflow";

/** LangGraph facts of a node execution (no convention exists for them). */
export const LANGGRAPH_NODE = "langgraph.node";
export const LANGGRAPH_STEP = "langgraph.step";
export const LANGGRAPH_ATTEMPT = "langgraph.attempt";
/** The thread id on an `invoke_workflow` span (whose convention has no `gen_ai.conversation.id`). */
export const LANGGRAPH_THREAD_ID = "langgraph.thread_id";

/** agentwarden's own attributes. */
export const AW_STEP_STATUS = "agentwarden.step.status";
export const AW_USAGE_MISSING = "agentwarden.usage.missing";
