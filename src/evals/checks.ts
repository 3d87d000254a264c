import type { EvalResult, Evaluator } from "./Evaluator.js";

/** Selects what a check looks at; by default the text of the last message of a `{ messages }` state. */
export type Select = (output: unknown) => unknown;

/** The text of the last message of a `{ messages: [...] }` state, or the output itself when it is a string. */
export function lastMessageText(output: unknown): string {
  if (typeof output === "string") return output;
  const messages = (output as { messages?: unknown })?.messages;
  const last = Array.isArray(messages) ? messages[messages.length - 1] : undefined;
  const content = (last as { content?: unknown } | undefined)?.content;
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => (typeof part === "string" ? part : ((part as { text?: unknown })?.text ?? "")))
      .join("");
  }
  return "";
}

/** The structural part of a zod schema a check needs (zod 3 and 4 both have `safeParse`). */
interface SchemaLike {
  safeParse(value: unknown): {
    success: boolean;
    error?: { issues?: Array<{ path?: PropertyKey[]; message?: string }> };
  };
}

/**
 * Passes when the output (the last message parsed as JSON when it is text) matches a zod schema;
 * the reason lists what did not match, field by field.
 */
export function schemaCheck(name: string, schema: SchemaLike, select: Select = lastMessageText): Evaluator {
  return {
    name,
    evaluate(output) {
      let value = select(output);
      if (typeof value === "string") {
        try {
          value = JSON.parse(value);
        } catch {
          return { pass: false, reason: "the answer must be valid JSON" };
        }
      }
      const r = schema.safeParse(value);
      if (r.success) return { pass: true };
      const issues = (r.error?.issues ?? []).map(
        (i) => `${(i.path ?? []).map(String).join(".") || "(root)"}: ${i.message ?? "invalid"}`,
      );
      return { pass: false, reason: `the answer does not match the expected schema (${issues.join("; ")})` };
    },
  };
}

/** Passes when `test(output)` is true; `reason` explains a failure to the model. */
export function predicateCheck(
  name: string,
  test: (output: unknown) => boolean | Promise<boolean>,
  reason = `check ${name} failed`,
): Evaluator {
  return {
    name,
    async evaluate(output) {
      return (await test(output)) ? { pass: true } : { pass: false, reason };
    },
  };
}

/** Passes when the selected text matches `pattern`. */
export function regexCheck(name: string, pattern: RegExp, select: Select = lastMessageText): Evaluator {
  return {
    name,
    evaluate(output) {
      const text = String(select(output) ?? "");
      return pattern.test(text) ? { pass: true } : { pass: false, reason: `the answer must match ${pattern}` };
    },
  };
}

/** Passes when the selected text contains `needle` (case-insensitive unless `caseSensitive`). */
export function containsCheck(
  name: string,
  needle: string,
  options: { caseSensitive?: boolean; select?: Select } = {},
): Evaluator {
  const select = options.select ?? lastMessageText;
  return {
    name,
    evaluate(output) {
      const text = String(select(output) ?? "");
      const found = options.caseSensitive ? text.includes(needle) : text.toLowerCase().includes(needle.toLowerCase());
      return found ? { pass: true } : { pass: false, reason: `the answer must mention "${needle}"` };
    },
  };
}

/** Any LangChain chat model (or anything with `invoke(prompt)` returning `{ content }`). */
export interface JudgeModel {
  invoke(input: string): Promise<{ content: unknown }>;
}

/**
 * Asks `model` the judge's `prompt` and reads its verdict: a score from 0 to 1 on the reply (the
 * first number of that form), passing at `threshold` or above, the rest of the reply as the reason.
 * A reply without a score fails. Shared by `judgeCheck` and the built-in judges.
 */
export async function judgeVerdict(model: JudgeModel, prompt: string, threshold: number): Promise<EvalResult> {
  const reply = await model.invoke(prompt);
  const text = typeof reply.content === "string" ? reply.content : JSON.stringify(reply.content);
  const match = /(?:^|\s)(0(?:\.\d+)?|1(?:\.0+)?)(?:\s|$)/.exec(text);
  if (!match) return { pass: false, reason: `the judge gave no score (${text.slice(0, 100)})` };
  const score = Number(match[1]);
  const why = text.slice((match.index ?? 0) + match[0].length).trim();
  return { pass: score >= threshold, score, reason: why || `scored ${score}, below ${threshold}` };
}

/**
 * LLM-as-judge: asks `model` to rate the answer against `criteria` from 0 to 1 and passes at
 * `threshold` or above. The judge's call is a model call of the task: traced, priced, counted.
 */
export function judgeCheck(options: {
  name: string;
  model: JudgeModel;
  criteria: string;
  threshold?: number;
  select?: Select;
}): Evaluator {
  const threshold = options.threshold ?? 0.7;
  const select = options.select ?? lastMessageText;
  return {
    name: options.name,
    async evaluate(output): Promise<EvalResult> {
      const prompt = [
        "You are grading an answer. Criteria:",
        options.criteria,
        "",
        "Answer:",
        String(select(output) ?? ""),
        "",
        "Reply with a score from 0 to 1 on the first line, then one sentence saying what is missing.",
      ].join("\n");
      return judgeVerdict(options.model, prompt, threshold);
    },
  };
}
