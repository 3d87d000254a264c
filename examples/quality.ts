/**
 * Keep an agent good once it ships: two prompt versions, online evaluation of the traffic (every
 * task here; 10% by default), a user's thumbs down, and the comparison a CI gate makes.
 *   npm run example:quality
 */
import { createReactAgent, ToolNode } from "@langchain/langgraph/prebuilt";
import { compareVersions, formatComparison, type OnlineEvaluator, Warden } from "agentwarden";
import { wrapGraph } from "agentwarden/langgraph";
import { ScriptedChatModel } from "agentwarden/testing";

const RIGHT = "Refunds are accepted within 30 days.";
const WRONG = "Refunds are accepted within 14 days.";
const lastText = (state: unknown) =>
  String((state as { messages: Array<{ content: unknown }> }).messages.at(-1)?.content ?? "");

// An LLM judge would call a model here; this one checks the policy and charges what a judge call costs.
const correct: OnlineEvaluator = {
  name: "correct",
  evaluate({ output }, { charge }) {
    charge("gpt-4o-mini", { input: 300, output: 5 });
    const right = lastText(output).includes("30 days");
    return { pass: right, score: right ? 1 : 0, reason: right ? "states the policy" : "wrong refund window" };
  },
};

const warden = new Warden({ tracing: false, online: { evaluators: [correct], sampleRate: 1 } });
const runs: string[] = [];
warden.onTaskEnd((run) => runs.push(run.id));

/** The support agent with a prompt version: v2's new prompt gets every other answer wrong. */
function support(version: "v1" | "v2") {
  let n = 0;
  const llm = new ScriptedChatModel({
    model: "gpt-4o-mini",
    script: () => ({ content: version === "v2" && n++ % 2 === 1 ? WRONG : RIGHT, usage: { input: 200, output: 20 } }),
  });
  return wrapGraph(createReactAgent({ llm, tools: new ToolNode([]), name: "support" }), { warden, version });
}

for (const version of ["v1", "v2"] as const) {
  const agent = support(version);
  for (let i = 0; i < 20; i++)
    await agent.invoke({ messages: [{ role: "user", content: "How long do I have to return it?" }] });
}
await warden.flush(); // the online evaluations run after the tasks, off their path
warden.feedback({ runId: runs.at(-1) as string, thumbs: "down", comment: "wrong refund window" });

const snap = warden.metrics?.snapshot();
if (!snap) throw new Error("metrics are on by default");
for (const [version, f] of Object.entries(snap.byVersion)) {
  const c = f.evals.correct;
  const fb = f.evals.user_feedback;
  console.log(
    `${version}: ${f.totals.tasks} tasks, ASF ${f.asf}, correct ${c?.meanScore} (${c?.scored} evaluated), feedback ${fb ? `${fb.failed} down` : "none"}`,
  );
}
console.log(
  `judge cost $${snap.evalCostUsd.toFixed(6)} beside the agent's $${snap.cumulative.totals.costUsd.toFixed(6)}`,
);
const { v1, v2 } = snap.byVersion;
if (!v1 || !v2) throw new Error("both versions ran");
// What `agentwarden compare` does with two stores: side by side, failing a significant drop.
const comparison = compareVersions(v1, v2, {
  maxDrop: { asf: { value: 0.02, relative: false }, "eval:correct": { value: 0.05, relative: false } },
});
console.log(formatComparison(comparison));
await warden.shutdown();
