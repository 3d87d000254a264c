import type { EvalResult, Evaluator, Finding } from "../Evaluator.js";
import { type ConversationSelect, readConversation } from "./conversation.js";

/** Finish reasons that mean the model ran out of tokens (OpenAI, Anthropic, Google, Bedrock, Ollama). */
const TRUNCATED_REASONS = new Set(["length", "max_tokens", "MAX_TOKENS", "max_output_tokens", "model_length"]);
/** Finish reasons that mean the model ended on its own. */
const FINISHED_REASONS = new Set(["stop", "end_turn", "STOP", "stop_sequence", "tool_calls", "tool_use", "eos"]);

/** The JSON text in an answer: the whole answer, or the body of a ```json fence; undefined when it is prose. */
export function jsonCandidate(answer: string): { text: string; offset: number } | undefined {
  const fence = /```(?:json|JSON)?[ \t]*\n([\s\S]*?)(?:```|$)/.exec(answer);
  if (fence && (fence[0].startsWith("```json") || fence[0].startsWith("```JSON") || /^\s*[[{]/.test(fence[1] ?? ""))) {
    return { text: fence[1] ?? "", offset: fence.index + fence[0].indexOf(fence[1] ?? "") };
  }
  const lead = /^\s*/.exec(answer)?.[0].length ?? 0;
  const c = answer[lead];
  // "[" opens JSON when an object, array or string follows, or the answer also ends in "]"
  // ("[1] Smith, J. (2020)..." is a reference list)
  const rest = answer.slice(lead);
  if (c === "{" || (c === "[" && (/^\[\s*[[{"]/.test(rest) || /^\[[\s\S]*\]\s*$/.test(rest)))) {
    return { text: answer.slice(lead), offset: lead };
  }
  return undefined;
}

/** Whether brackets and strings of a JSON-like text are left open at its end. */
function openAtEnd(text: string): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") depth--;
  }
  return inString || depth > 0;
}

/** One reliability problem found in an answer. */
type Problem = Finding & { reason: string };

function truncation(answer: string, finishReason: string | undefined): Problem | undefined {
  if (finishReason !== undefined && TRUNCATED_REASONS.has(finishReason)) {
    return {
      kind: "truncated",
      start: answer.length,
      end: answer.length,
      source: "answer",
      reason: `the answer was cut off (finish reason ${finishReason})`,
    };
  }
  if (finishReason !== undefined && FINISHED_REASONS.has(finishReason)) return undefined;
  // no finish reason: an unclosed code fence, or JSON left open, is a cut-off answer
  const fences = answer.match(/^\s*```/gm)?.length ?? 0;
  const json = jsonCandidate(answer);
  if (fences % 2 === 1 || (json && openAtEnd(json.text))) {
    return {
      kind: "truncated",
      start: answer.length,
      end: answer.length,
      source: "answer",
      reason: "the answer ends inside an unclosed block",
    };
  }
  return undefined;
}

function malformed(answer: string, expectJson: boolean | undefined): Problem | undefined {
  const json = jsonCandidate(answer);
  if (!json) {
    if (expectJson)
      return { kind: "malformed", start: 0, end: answer.length, source: "answer", reason: "the answer must be JSON" };
    return undefined;
  }
  if (expectJson === false) return undefined;
  try {
    JSON.parse(json.text);
    return undefined;
  } catch (e) {
    const at = /position (\d+)/.exec(String((e as Error).message));
    const pos = at ? json.offset + Number(at[1]) : json.offset;
    return {
      kind: "malformed",
      start: Math.min(pos, answer.length),
      end: Math.min(pos + 1, answer.length),
      source: "answer",
      reason: `the answer's JSON does not parse (${(e as Error).message.split("\n")[0]})`,
    };
  }
}

const PLACEHOLDER_ANSWER = /^\s*(?:null|undefined|none|n\/a|nan|\{\s*\}|\[\s*\]|""|''|\.{2,}|…|-+|todo|tbd)\s*$/i;

function empty(answer: string): Problem | undefined {
  if (/[\p{L}\p{N}]/u.test(answer) && !PLACEHOLDER_ANSWER.test(answer)) return undefined;
  return { kind: "empty", start: 0, end: answer.length, source: "answer", reason: "the answer is empty" };
}

/**
 * Refusals: the model declining the task. Looked for at the start of the answer (its first 300
 * characters), where refusals come; "I can't find a flight on that date" is no refusal.
 */
const REFUSAL = new RegExp(
  [
    String.raw`\bI(?:'m| am)\s+(?:really\s+|very\s+)?sorry,?\s+(?:but\s+)?I\s+(?:can(?:no|')t|won't|will not|am unable to|am not able to|must decline to)\s+(?:help|assist|provide|do|comply|share|fulfil|fulfill|complete|create|write|generate|give|answer|continue|engage|support|discuss)`,
    String.raw`\bI\s+(?:can(?:no|')t|won't|will not|am not able to|am unable to|(?:'m| am) not able to|(?:'m| am) unable to)\s+(?:help|assist)\s+(?:you\s+)?with\s+(?:that|this|your request|such|requests|[a-z]+ing\b)`,
    String.raw`\bI\s+(?:can(?:no|')t|won't|will not|must decline to|(?:'m| am) (?:not able|unable|not allowed|not permitted) to)\s+(?:provide|share|comply|fulfil|fulfill|do that|do this|create that|write that|generate that|give you that|answer that|assist with (?:that|this))`,
    String.raw`\bI\s+(?:must|have to|need to)\s+(?:respectfully\s+)?decline\b`,
    String.raw`\bAs an AI(?: language model| assistant| model)?,?\s+I\s+(?:can(?:no|')t|don't|do not|am not able to|won't)\b`,
    String.raw`\b(?:that|this)(?:'s| is)\s+not\s+something\s+I\s+can\s+(?:help|assist)\s+with`,
    String.raw`\bI(?:'m| am)\s+not\s+(?:able|allowed|permitted|comfortable)\s+(?:to\s+)?(?:help(?:ing)?|assist(?:ing)?|provid(?:e|ing)|shar(?:e|ing))\s+(?:you\s+)?with\s+(?:that|this)`,
    String.raw`\bI\s+(?:can(?:no|')t|won't)\s+(?:help|assist)\s+(?:with\s+)?(?:that|this)(?:\s+request)?[.!]`,
  ].join("|"),
  "gi",
);

function refusal(answer: string): Problem | undefined {
  const head = answer.slice(0, 300).replace(/[\u2018\u2019]/g, "'");
  REFUSAL.lastIndex = 0;
  const m = REFUSAL.exec(head);
  if (!m) return undefined;
  return {
    kind: "refusal",
    start: m.index,
    end: m.index + m[0].length,
    source: "answer",
    text: answer.slice(m.index, m.index + m[0].length),
    reason: "the model refused the task",
  };
}

export type ReliabilityKind = "truncated" | "malformed" | "empty" | "refusal";

export interface ReliabilityCheckOptions {
  name?: string;
  /** Which problems fail the check; default all four. */
  kinds?: readonly ReliabilityKind[];
  /**
   * Whether the answer must be JSON: `true` fails prose; `false` never checks JSON; default
   * (undefined) checks an answer that looks like JSON (starts with `{` or `[`, or a ```json fence).
   */
  expectJson?: boolean;
  select?: ConversationSelect;
}

/**
 * Fails on an unreliable answer: cut off (finish reason `length`/`max_tokens`, or, without a finish
 * reason, an unclosed code fence or JSON), malformed JSON, empty (blank, no letter or digit, or a
 * placeholder like `null`, `N/A`, `{}`), or a refusal. The finding says which, and where.
 */
export function reliabilityCheck(options: ReliabilityCheckOptions = {}): Evaluator {
  const select = options.select ?? readConversation;
  const kinds = new Set<ReliabilityKind>(options.kinds ?? ["truncated", "malformed", "empty", "refusal"]);
  return {
    name: options.name ?? "reliability",
    evaluate(output): EvalResult {
      const c = select(output);
      const problems: Problem[] = [];
      const e = kinds.has("empty") ? empty(c.answer) : undefined;
      if (e) problems.push(e);
      const t = kinds.has("truncated") ? truncation(c.answer, c.finishReason) : undefined;
      if (t) problems.push(t);
      // a cut-off answer's JSON is broken because it was cut: one problem, not two
      if (!e && !t && kinds.has("malformed")) {
        const m = malformed(c.answer, options.expectJson);
        if (m) problems.push(m);
      }
      if (!e && kinds.has("refusal")) {
        const r = refusal(c.answer);
        if (r) problems.push(r);
      }
      if (problems.length === 0) return { pass: true, score: 1, label: "ok" };
      const first = problems[0] as Problem;
      return {
        pass: false,
        score: 0,
        label: first.kind,
        reason: problems.map((p) => p.reason).join("; "),
        findings: problems.map(({ reason: _reason, ...f }) => f),
      };
    },
  };
}

/** `reliabilityCheck` for one kind of problem. */
export const truncationCheck = (o: Omit<ReliabilityCheckOptions, "kinds"> = {}) =>
  reliabilityCheck({ name: "truncation", ...o, kinds: ["truncated"] });
export const structuredOutputCheck = (o: Omit<ReliabilityCheckOptions, "kinds"> = {}) =>
  reliabilityCheck({ name: "structured_output", ...o, kinds: ["malformed"] });
export const emptyAnswerCheck = (o: Omit<ReliabilityCheckOptions, "kinds"> = {}) =>
  reliabilityCheck({ name: "empty_answer", ...o, kinds: ["empty"] });
export const refusalCheck = (o: Omit<ReliabilityCheckOptions, "kinds"> = {}) =>
  reliabilityCheck({ name: "refusal", ...o, kinds: ["refusal"] });
