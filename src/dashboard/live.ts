import type { StepRecord } from "../metrics/summary.js";

/** A task in progress, as the dashboard shows it. */
export interface LiveRun {
  id: string;
  agent: string;
  start: number;
  steps: StepRecord[];
}

/** What the live dashboard is told: a task started, a step started or ended, a task ended. */
export type LiveEvent =
  | { type: "run"; run: LiveRun }
  | { type: "step"; run: string; i: number; step: StepRecord }
  | { type: "end"; run: string };

/** What the dashboard server reads the tasks in progress from (the Warden's `LiveRuns`). */
export interface LiveFeed {
  runs(): LiveRun[];
  onEvent(listener: (event: LiveEvent) => void): () => void;
}
