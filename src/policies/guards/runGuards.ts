import { toEvalResult } from "../../evals/Evaluator.js";
import type { Run } from "../../run/run.js";
import { runInStep } from "../../run/scope.js";
import type { Step } from "../../run/step.js";
import { decideGuard, type GuardDecision, type GuardPoint, type GuardRule, type GuardVerdict } from "./guards.js";

/** The content at a guard point: what evaluators see, its text (for redaction), what an escalation shows. */
export interface GuardSubject {
  /** What each evaluator is given (a `{ messages }` state, or a tool call `{ name, args }`). */
  view: unknown;
  /** The content as text: what `redact` rewrites. */
  text: string;
  /** What an escalation's payload shows. */
  content: unknown;
}

/** The type of the task failure a block makes (`error.type`, failure kind `guard`). */
export const GUARD_BLOCKED = "guard_blocked";

/**
 * Runs the rules of one guard point, in order, on `subject`: each rule is a `guard` step under
 * `parent`, its evaluators `eval` steps under it (running inside their step, so a judge's model call
 * nests there). A `redact` rewrites the text the next rules see; the first `block` or `escalate`
 * ends the checking. Returns the decision the adapter carries out: the last redaction, or the
 * block or escalation, or `continue`.
 */
export async function runGuards(
  parent: Step,
  point: GuardPoint,
  rules: readonly GuardRule[],
  subject: GuardSubject,
  reread: (text: string) => GuardSubject = (text) => ({ ...subject, text }),
): Promise<GuardDecision> {
  let current = subject;
  let redacted: GuardDecision | undefined;
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i] as GuardRule;
    const decision = await runRule(parent, point, i, rule, current);
    if (decision.kind === "continue") continue;
    if (decision.kind !== "redact") return decision;
    redacted = decision;
    current = reread(decision.content);
  }
  return redacted ?? { kind: "continue" };
}

async function runRule(
  parent: Step,
  point: GuardPoint,
  index: number,
  rule: GuardRule,
  subject: GuardSubject,
): Promise<GuardDecision> {
  const run = parent.run as Run;
  const guard = `${point}[${index}]`;
  const step = run.start("guard", `${point}.${rule.action}`, parent, (s) => {
    s.guard = { point, guard, action: rule.action };
  });
  const verdicts: GuardVerdict[] = [];
  for (const evaluator of rule.evaluators) {
    const e = run.start("eval", evaluator.name, step, (s) => {
      s.eval = { name: evaluator.name, target: guard };
    });
    try {
      const result = toEvalResult(await runInStep(e, () => evaluator.evaluate(subject.view)));
      Object.assign(e.eval ?? {}, { pass: result.pass }, result.score !== undefined ? { score: result.score } : {});
      if (result.reason !== undefined && e.eval) e.eval.reason = result.reason;
      verdicts.push({ evaluator: evaluator.name, result });
      run.end(
        e,
        result.pass ? "ok" : "error",
        result.pass
          ? undefined
          : {
              type: "eval_failed",
              message: `evaluator ${evaluator.name} failed${result.reason ? `: ${result.reason}` : ""}`,
            },
      );
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (e.eval) e.eval.pass = false;
      verdicts.push({ evaluator: evaluator.name, threw: message });
      run.end(e, "error", { type: "eval_error", message: `evaluator ${evaluator.name} threw: ${message}` });
    }
    // A block or escalation needs one finding; a redaction wants every evaluator's matches.
    const last = verdicts[verdicts.length - 1] as GuardVerdict;
    if (rule.action !== "redact" && ("threw" in last || !last.result.pass)) break;
  }
  const decision = decideGuard(point, index, rule, verdicts, subject.text, subject.content);
  if (step.guard) {
    step.guard.decision = decision.kind;
    if (decision.kind !== "continue") {
      step.guard.evaluator = decision.finding.evaluator;
      if (decision.finding.reason !== undefined) step.guard.reason = decision.finding.reason;
      const attributes: Record<string, string> = {
        "agentwarden.guard": guard,
        "gen_ai.evaluation.name": decision.finding.evaluator,
        decision: decision.kind,
      };
      step.addEvent("agentwarden.guard.decision", attributes);
    }
  }
  // An escalation's step stays open until the reviewer answers (`settleEscalation`); the others end here.
  if (decision.kind === "escalate") decision.step = step;
  else run.end(step, "ok");
  return decision;
}

/**
 * Ends an escalation's guard step: `interrupted` while the task waits for the reviewer, else with
 * the reviewer's answer as its decision (`approve`, `edit`, `reject`).
 */
export function settleEscalation(step: Step | undefined, answer: "interrupted" | "approve" | "edit" | "reject"): void {
  if (!step) return;
  if (answer === "interrupted") {
    step.run.end(step, "interrupted");
    return;
  }
  if (step.guard) step.guard.decision = answer;
  step.addEvent("agentwarden.guard.resume", { action: answer });
  step.run.end(step, "ok");
}

/**
 * Marks the task failed by a guard's block (kind `guard`): it returns normally, with the refusal as
 * its answer, and counts as a failure in ASF — not in ERR, which counts failures that can be recovered.
 */
export function blockTask(
  run: Run,
  decision: { finding: { guard: string; evaluator: string; reason?: string }; refusal: string },
): void {
  const f = decision.finding;
  run.failure ??= {
    type: GUARD_BLOCKED,
    message: `guard ${f.guard} blocked: evaluator ${f.evaluator} failed${f.reason ? `: ${f.reason}` : ""}`,
  };
  run.guardBlocked ??= decision.refusal;
}
