/**
 * The concrete types behind `step.run`, `run.warden`, `run.guard` and `run.summary()`, named by the
 * modules that define them through declaration merging (`declare module "../run/types.js"`). The
 * public types stay exact (`Run`, `Warden`, `TaskGuard`, `TaskSummary`) while the ledger imports
 * nothing above it, and no module of the ledger imports another that imports it back.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging
export interface RunTypes {}

type Named<K extends string> = RunTypes extends { [P in K]: infer T } ? T : unknown;

/** The Run a step belongs to (`Run`, named by run.ts). */
export type RunOf = Named<"run">;
/** The owner of a Run (`Warden`, named by warden.ts). */
export type RunOwnerOf = Named<"warden">;
/** A task's breakers (`TaskGuard`, named by policies/TaskGuard.ts). */
export type RunGuardOf = Named<"guard">;
/** A run's figures (`TaskSummary`, named by metrics/summary.ts). */
export type RunSummaryOf = Named<"summary">;
