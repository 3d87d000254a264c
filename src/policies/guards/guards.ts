import { describe } from "../../configError.js";
import type { EvalResult, Evaluator } from "../../evals/Evaluator.js";
import type { Step } from "../../run/step.js";

/**
 * Where a guard checks: `input` — what a model call is about to read (the user's input, a tool's
 * result); `tool` — a tool call's arguments before it runs; `output` — a model's output (by default
 * only final answers, the task's answer among them).
 */
export type GuardPoint = "input" | "tool" | "output";

/**
 * What a guard does when one of its evaluators fails: `block` (the step does not happen or its
 * output is replaced by a refusal; the task fails, kind `guard`), `redact` (the matching text is
 * replaced before anything downstream sees it), `escalate` (the task pauses with LangGraph's
 * `interrupt()`; a person approves, edits or rejects), `reask` (output guards: the correction loop —
 * the model is told which check failed and answers again, up to `maxAttempts` runs).
 */
export type GuardAction = "block" | "redact" | "escalate" | "reask";

/** One guard: evaluators, all run on the content; the first failing one decides. */
export interface GuardRule {
  evaluators: Evaluator[];
  action: GuardAction;
  /** The text that stands in for a blocked step. Default `DEFAULT_REFUSAL`. */
  refusal?: string;
  /** Output guards: check only final answers (a model output with no tool calls). Default true. */
  finalOnly?: boolean;
  /** `reask` guards: runs of the model node in all, the first included. Default 3. */
  maxAttempts?: number;
}

/** Guards by point; each a list of rules checked in order. */
export interface GuardsConfig {
  input?: GuardRule[];
  tool?: GuardRule[];
  output?: GuardRule[];
}

export const GUARD_POINTS: readonly GuardPoint[] = ["input", "tool", "output"];
const ACTIONS: readonly GuardAction[] = ["block", "redact", "escalate", "reask"];

/** What a blocked step is answered with when its guard names no refusal of its own. */
export const DEFAULT_REFUSAL = "I can't continue with this request: a safety check stopped it.";

/** What an evaluator found: the guard, the evaluator and its verdict. */
export interface GuardFinding {
  /** The guard's place in the options: `tool[0]`. */
  guard: string;
  point: GuardPoint;
  evaluator: string;
  reason?: string;
  score?: number;
  /** The exact text the evaluator objected to, when it said (`EvalResult.matches`). */
  matches?: string[];
  /** True when the evaluator threw: an eval error counts as a finding, never a pass. */
  threw?: boolean;
}

/** An evaluator's verdict as the guard sees it: its result, or that it threw. */
export type GuardVerdict = { evaluator: string; result: EvalResult } | { evaluator: string; threw: string };

/** What the adapter does with the content at a guard point. */
export type GuardDecision =
  | { kind: "continue" }
  | { kind: "block"; finding: GuardFinding; refusal: string }
  | { kind: "redact"; finding: GuardFinding; content: string }
  | { kind: "escalate"; finding: GuardFinding; payload: EscalationPayload; step?: Step };

/** The payload of a guard's `interrupt()`: what a reviewer needs to decide. */
export interface EscalationPayload {
  agentwarden: "guard";
  guard: string;
  point: GuardPoint;
  finding: GuardFinding;
  /** The content checked (the text, or a tool's name and arguments). */
  content: unknown;
  /** The tool call's id (a tool call, a tool result), or the message's id (a user message), when it has one. */
  id?: string;
  /**
   * A digest of what was asked about (the guard, `id` and `content`; a tool result's, of its call
   * alone): the answer to this escalation carries it on resume, and only the step it names takes it.
   */
  digest?: string;
}

/** How a reviewer resumes an escalation: `Command({ resume })`. */
export type EscalationResume =
  | { action: "approve" }
  | { action: "edit"; args?: unknown; content?: string }
  | { action: "reject"; reason?: string };

/** The replacement written over redacted text. */
export function redactionMark(evaluator: string): string {
  return `[REDACTED:${evaluator}]`;
}

/**
 * The guard's decision, given the point, the rule, the content checked and each evaluator's verdict
 * (in the rule's order): the first failing verdict decides; none failing is `continue`.
 * `text` is the content as text (for `redact`); `content` what an escalation shows.
 */
export function decideGuard(
  point: GuardPoint,
  index: number,
  rule: GuardRule,
  verdicts: readonly GuardVerdict[],
  text: string,
  content: unknown,
): GuardDecision {
  const guard = `${point}[${index}]`;
  const failed = verdicts.find((v) => "threw" in v || !v.result.pass);
  if (!failed) return { kind: "continue" };
  const finding: GuardFinding = { guard, point, evaluator: failed.evaluator };
  if ("threw" in failed) {
    finding.threw = true;
    finding.reason = `the evaluator threw: ${failed.threw}`;
  } else {
    const r = failed.result;
    if (r.reason !== undefined) finding.reason = r.reason;
    if (r.score !== undefined) finding.score = r.score;
    if (r.matches !== undefined && r.matches.length > 0) finding.matches = [...r.matches];
  }
  switch (rule.action) {
    case "block":
      return { kind: "block", finding, refusal: rule.refusal ?? DEFAULT_REFUSAL };
    case "redact": {
      // Every failing evaluator's matches are redacted; one that names no match (or threw)
      // withholds the whole content.
      let redacted = text;
      for (const v of verdicts) {
        if (!("threw" in v) && v.result.pass) continue;
        const matches = "threw" in v ? undefined : v.result.matches;
        if (!matches || matches.length === 0) return { kind: "redact", finding, content: redactionMark(v.evaluator) };
        for (const m of matches) if (m.length > 0) redacted = redacted.split(m).join(redactionMark(v.evaluator));
      }
      return { kind: "redact", finding, content: redacted };
    }
    case "escalate":
      return { kind: "escalate", finding, payload: { agentwarden: "guard", guard, point, finding, content } };
    case "reask":
      // Carried out by the correction loop of the model node, never decided here (see splitReask).
      return { kind: "continue" };
  }
}

/**
 * Reads a reviewer's resume value. Anything but `{ action: "approve" | "edit" | "reject" }` is
 * rejected with a TypeError naming what was expected.
 */
export function parseResume(value: unknown, guard: string): EscalationResume {
  const action = (value as { action?: unknown } | null | undefined)?.action;
  if (action === "approve") return { action };
  if (action === "reject") {
    const reason = (value as { reason?: unknown }).reason;
    return typeof reason === "string" ? { action, reason } : { action };
  }
  if (action === "edit") {
    const v = value as { args?: unknown; content?: unknown };
    const r: EscalationResume = { action };
    if (v.args !== undefined) r.args = v.args;
    if (typeof v.content === "string") r.content = v.content;
    return r;
  }
  throw new TypeError(
    `agentwarden: guard ${guard} was resumed with ${describe(value)}; resume with Command({ resume: { action: "approve" | "edit" | "reject" } })`,
  );
}

/**
 * Validates `guards` options, throwing a TypeError naming the field (`guards.tool[0].action`).
 * `canEscalate` false (no checkpointer) makes `escalate` an error.
 */
export function parseGuards(value: unknown, canEscalate: boolean, root = "guards"): GuardsConfig | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new TypeError(
      `agentwarden: option ${root} must be an object { input?, tool?, output? }, got ${describe(value)}`,
    );
  const out: GuardsConfig = {};
  for (const key of Object.keys(value)) {
    if (!(GUARD_POINTS as readonly string[]).includes(key))
      throw new TypeError(`agentwarden: unknown option ${root}.${key} (guard points: input, tool, output)`);
  }
  for (const point of GUARD_POINTS) {
    const list = (value as Record<string, unknown>)[point];
    if (list === undefined) continue;
    if (!Array.isArray(list))
      throw new TypeError(`agentwarden: option ${root}.${point} must be an array of guards, got ${describe(list)}`);
    out[point] = list.map((rule, i) => parseRule(rule, `${root}.${point}[${i}]`, canEscalate, point));
  }
  return out;
}

function parseRule(rule: unknown, field: string, canEscalate: boolean, point: GuardPoint): GuardRule {
  if (typeof rule !== "object" || rule === null)
    throw new TypeError(`agentwarden: option ${field} must be { evaluators, action }, got ${describe(rule)}`);
  const r = rule as Record<string, unknown>;
  for (const key of Object.keys(r)) {
    if (!["evaluators", "action", "refusal", "finalOnly", "maxAttempts"].includes(key))
      throw new TypeError(`agentwarden: unknown option ${field}.${key}`);
  }
  const evaluators = r.evaluators;
  if (!Array.isArray(evaluators) || evaluators.length === 0)
    throw new TypeError(
      `agentwarden: option ${field}.evaluators must be a non-empty array of evaluators, got ${describe(evaluators)}`,
    );
  evaluators.forEach((e, i) => {
    const ev = e as Partial<Evaluator> | null;
    if (typeof ev?.name !== "string" || typeof ev.evaluate !== "function")
      throw new TypeError(
        `agentwarden: option ${field}.evaluators[${i}] must be an evaluator { name: string, evaluate(output) }, got ${describe(e)}`,
      );
  });
  const action = r.action;
  if (!(ACTIONS as readonly unknown[]).includes(action))
    throw new TypeError(
      `agentwarden: option ${field}.action must be "block", "redact", "escalate" or "reask", got ${describe(action)}`,
    );
  if (action === "escalate" && point === "output")
    throw new TypeError(
      `agentwarden: option ${field}.action "escalate" is for input and tool guards: LangGraph re-runs an interrupted node, so the model would be called again on resume; an output guard blocks or redacts`,
    );
  if (action === "escalate" && !canEscalate)
    throw new TypeError(
      `agentwarden: option ${field}.action is "escalate", which pauses the task with interrupt(): the graph needs a checkpointer (compile({ checkpointer }))`,
    );
  if (action === "redact" && point === "tool")
    throw new TypeError(
      `agentwarden: option ${field}.action "redact" applies to text (input, output guards); a tool guard blocks or escalates`,
    );
  if (action === "reask" && point !== "output")
    throw new TypeError(
      `agentwarden: option ${field}.action "reask" re-asks the model about its own output: it is for output guards`,
    );
  if (r.maxAttempts !== undefined && action !== "reask")
    throw new TypeError(`agentwarden: option ${field}.maxAttempts belongs to reask guards`);
  if (r.maxAttempts !== undefined && (!Number.isSafeInteger(r.maxAttempts) || (r.maxAttempts as number) < 1))
    throw new TypeError(
      `agentwarden: option ${field}.maxAttempts must be an integer >= 1, got ${describe(r.maxAttempts)}`,
    );
  if (r.refusal !== undefined && (typeof r.refusal !== "string" || r.refusal.length === 0))
    throw new TypeError(`agentwarden: option ${field}.refusal must be a non-empty string, got ${describe(r.refusal)}`);
  if (r.finalOnly !== undefined && typeof r.finalOnly !== "boolean")
    throw new TypeError(`agentwarden: option ${field}.finalOnly must be a boolean, got ${describe(r.finalOnly)}`);
  const parsed: GuardRule = { evaluators: [...(evaluators as Evaluator[])], action: action as GuardAction };
  if (typeof r.refusal === "string") parsed.refusal = r.refusal;
  if (typeof r.finalOnly === "boolean") parsed.finalOnly = r.finalOnly;
  if (typeof r.maxAttempts === "number") parsed.maxAttempts = r.maxAttempts;
  return parsed;
}

/**
 * Splits the `reask` output guards off: they are the correction loop on the model node (a
 * correction per guard, in order), the other guards stay guards.
 */
export function splitReask(guards: GuardsConfig | undefined): { guards: GuardsConfig | undefined; reask: GuardRule[] } {
  const reask = guards?.output?.filter((r) => r.action === "reask") ?? [];
  if (!guards || reask.length === 0) return { guards, reask };
  const output = guards.output?.filter((r) => r.action !== "reask") ?? [];
  const rest: GuardsConfig = { ...guards };
  if (output.length > 0) rest.output = output;
  else delete rest.output;
  return { guards: Object.keys(rest).length > 0 ? rest : undefined, reask };
}
