/*
 * Attribute and span names agentwarden emits. The GenAI and MCP conventions are in Development
 * status and live in open-telemetry/semantic-conventions-genai (no tagged release); the names below
 * follow its `main` branch as read on 2026-11-22. `@opentelemetry/semantic-conventions` 1.45 still
 * ships the older core v1.41 names only, marked deprecated, and asks instrumentations to copy
 * unstable names locally rather than import `/incubating` at run time: hence this file.
 */

export const GEN_AI_OPERATION_NAME = "gen_ai.operation.name";
export const GEN_AI_PROVIDER_NAME = "gen_ai.provider.name";
export const GEN_AI_REQUEST_MODEL = "gen_ai.request.model";
export const GEN_AI_RESPONSE_MODEL = "gen_ai.response.model";
export const GEN_AI_RESPONSE_FINISH_REASONS = "gen_ai.response.finish_reasons";
export const GEN_AI_USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens";
export const GEN_AI_USAGE_OUTPUT_TOKENS = "gen_ai.usage.output_tokens";
export const GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS = "gen_ai.usage.cache_read.input_tokens";
export const GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS = "gen_ai.usage.cache_write.input_tokens";
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
/** Proposed upstream (semantic-conventions-genai issue #187, PR #188); not yet merged. */
export const GEN_AI_NODE_NAME = "gen_ai.node.name";

/** GenAI evaluation result attributes (the `gen_ai.evaluation.result` event's), set on eval spans. */
export const GEN_AI_EVALUATION_NAME = "gen_ai.evaluation.name";
export const GEN_AI_EVALUATION_SCORE_VALUE = "gen_ai.evaluation.score.value";
export const GEN_AI_EVALUATION_SCORE_LABEL = "gen_ai.evaluation.score.label";
export const GEN_AI_EVALUATION_EXPLANATION = "gen_ai.evaluation.explanation";

/** MCP conventions (semantic-conventions-genai `main`). */
export const MCP_METHOD_NAME = "mcp.method.name";
export const MCP_PROTOCOL_VERSION = "mcp.protocol.version";
export const MCP_SESSION_ID = "mcp.session.id";
export const JSONRPC_REQUEST_ID = "jsonrpc.request.id";
export const NETWORK_TRANSPORT = "network.transport";

/** Stable in the core conventions. */
export const ERROR_TYPE = "error.type";
export const ERROR_TYPE_OTHER = "_OTHER";

export const OPERATION_CHAT = "chat";
export const OPERATION_EXECUTE_TOOL = "execute_tool";
export const OPERATION_INVOKE_AGENT = "invoke_agent";
export const OPERATION_INVOKE_WORKFLOW = "invoke_workflow";

/** LangGraph facts of a node execution (no convention exists for them). */
export const LANGGRAPH_NODE = "langgraph.node";
export const LANGGRAPH_STEP = "langgraph.step";
export const LANGGRAPH_ATTEMPT = "langgraph.attempt";

/** agentwarden's own attributes. */
export const AW_STEP_STATUS = "agentwarden.step.status";
export const AW_USAGE_MISSING = "agentwarden.usage.missing";
