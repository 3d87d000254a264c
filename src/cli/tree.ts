import type { TaskSummary } from "../metrics/summary.js";
import { printable } from "./printable.js";

/** A task's steps as an indented tree: kind and name, duration, tokens, cost, errors, injected steps. */
export function formatSteps(summary: TaskSummary): string {
  const depth: number[] = [];
  const lines: string[] = [];
  summary.steps.forEach((s, i) => {
    depth[i] = s.p >= 0 ? (depth[s.p] ?? 0) + 1 : 0;
    const label = s.k === "node" ? s.n : `${s.k} ${s.n}`;
    const facts = [`${s.d.toFixed(1)} ms`];
    if (s.tok) facts.push(`${s.tok[0]}/${s.tok[1]} tok${s.est ? " (est.)" : ""}`);
    if (s.usd !== undefined) facts.push(`$${s.usd.toFixed(6)}`);
    if (s.inj) facts.push("injected");
    if (s.s !== "ok") facts.push(s.s.toUpperCase());
    lines.push(`${"  ".repeat(depth[i] ?? 0)}${label}  [${facts.join(", ")}]`);
    if (s.e) lines.push(`${"  ".repeat((depth[i] ?? 0) + 2)}${s.e.type}: ${s.e.message.split("\n")[0]?.slice(0, 140)}`);
  });
  return printable(lines.join("\n"));
}
