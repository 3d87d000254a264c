import type { Attributes } from "@opentelemetry/api";
import type { Vocabulary } from "../options.js";
import type { Step } from "../run/step.js";

const openInferenceKind = {
  workflow: "CHAIN",
  agent: "AGENT",
  node: "CHAIN",
  chat: "LLM",
  tool: "TOOL",
  eval: "EVALUATOR",
  recovery: "CHAIN",
  mcp: "TOOL",
  guard: "GUARDRAIL",
} as const;
const traceloopKind = {
  workflow: "workflow",
  agent: "agent",
  node: "task",
  chat: "task",
  tool: "tool",
  eval: "task",
  recovery: "task",
  mcp: "tool",
  guard: "task",
} as const;

/**
 * OpenInference (Phoenix, Arize) and Traceloop attributes for a step, beside `gen_ai.*`, so one
 * trace serves those backends too. `atEnd` gives the attributes known only when the step ends.
 */
export function vocabularyAttributes(step: Step, vocabularies: ReadonlySet<Vocabulary>, atEnd = false): Attributes {
  const a: Attributes = {};
  if (vocabularies.has("openinference")) {
    if (atEnd) {
      const usage = step.chat?.usage;
      if (usage) {
        a["llm.token_count.prompt"] = usage.input;
        a["llm.token_count.completion"] = usage.output;
        a["llm.token_count.total"] = usage.input + usage.output;
      }
    } else {
      a["openinference.span.kind"] = openInferenceKind[step.kind];
      if (step.chat) {
        a["llm.model_name"] = step.chat.requestModel;
        a["llm.provider"] = step.chat.provider;
      }
      if (step.tool) a["tool.name"] = step.tool.name;
      if (step.kind === "node") a["graph.node.id"] = step.name;
      if (step.parent?.kind === "node") a["graph.node.parent_id"] = step.parent.name;
    }
  }
  if (vocabularies.has("traceloop") && !atEnd) {
    a["traceloop.span.kind"] = traceloopKind[step.kind];
    a["traceloop.entity.name"] = step.name;
  }
  return a;
}
