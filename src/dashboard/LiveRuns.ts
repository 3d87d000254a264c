import { MAX_STEP_RECORDS, type StepRecord } from "../metrics/summary.js";
import type { Run } from "../run/run.js";
import type { Step } from "../run/step.js";
import type { Subscriber } from "../subscriber.js";
import type { LiveEvent, LiveFeed, LiveRun } from "./live.js";
import type { Dashboard, DashboardOptions } from "./server.js";

export type { LiveEvent, LiveRun } from "./live.js";

/** Tasks followed at once; more are not shown live (they appear in the store once they end). */
export const MAX_LIVE_RUNS = 1_000;

interface Open {
  live: LiveRun;
  index: Map<Step, number>;
}

/**
 * The Warden's subscriber for the live dashboard (`WardenOptions.dashboard`): keeps the tasks in
 * progress and their steps so far, and tells its listeners each step as it starts and ends.
 * Registered only when the dashboard is on, so the hot path is untouched otherwise.
 */
export class LiveRuns implements Subscriber, LiveFeed {
  readonly name = "dashboard";
  private readonly open = new Map<Run, Open>();
  private readonly listeners = new Set<(event: LiveEvent) => void>();
  private server: Promise<Dashboard> | undefined;

  /** Serves the dashboard for `store` with these tasks live; closed by `shutdown()`. */
  serve(store: string, options: Omit<DashboardOptions, "live">): Promise<Dashboard> {
    // Loaded only when asked for: a Warden without a dashboard never loads the server.
    this.server ??= import("./server.js").then((m) => m.serveDashboard(store, { ...options, live: this }));
    return this.server;
  }

  async shutdown(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.listeners.clear();
    if (server) await (await server.catch(() => undefined))?.close();
  }

  /** Calls `listener` with every event from now on; returns what removes it. */
  onEvent(listener: (event: LiveEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The tasks in progress, oldest first. */
  runs(): LiveRun[] {
    return [...this.open.values()].map((o) => o.live);
  }

  onStepStart(step: Step): void {
    const run = step.run;
    let open = this.open.get(run);
    if (!step.parent) {
      if (this.open.size >= MAX_LIVE_RUNS) return;
      open = { live: { id: run.id, agent: step.name, start: run.startTime, steps: [] }, index: new Map() };
      this.open.set(run, open);
    }
    if (!open || open.live.steps.length >= MAX_STEP_RECORDS) return;
    const i = open.live.steps.length;
    const parent = step.parent ? (open.index.get(step.parent) ?? -1) : -1;
    const t = ms(step.startTime - run.startTime);
    const record: StepRecord = { p: parent, k: step.kind, n: step.name, t, d: 0, s: "running" };
    fill(record, step);
    open.index.set(step, i);
    open.live.steps.push(record);
    if (step.parent) this.emit({ type: "step", run: run.id, i, step: record });
    else this.emit({ type: "run", run: open.live });
  }

  onStepEnd(step: Step): void {
    const open = this.open.get(step.run);
    const i = open?.index.get(step);
    if (!open || i === undefined) return;
    const record = open.live.steps[i] as StepRecord;
    record.d = ms((step.endTime ?? step.startTime) - step.startTime);
    record.s = step.status;
    if (step.error) record.e = step.error;
    fill(record, step);
    this.emit({ type: "step", run: step.run.id, i, step: record });
  }

  onTaskEnd(run: Run): void {
    if (!this.open.delete(run)) return;
    this.emit({ type: "end", run: run.id });
  }

  private emit(event: LiveEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}

function fill(r: StepRecord, step: Step): void {
  const usage = step.chat?.usage ?? step.chat?.estimatedUsage;
  if (usage) r.tok = [usage.input, usage.output];
  if (step.injected) r.inj = true;
  const rc = step.recovery;
  if (rc) {
    r.rc = { a: rc.action, to: rc.target };
    if (rc.attempts !== undefined) r.rc.n = rc.attempts;
  }
  if (step.tool?.recovers !== undefined) r.fb = step.tool.recovers;
  if (step.events?.some((e) => e.name === "agentwarden.loop.hint")) r.hint = true;
}

function ms(x: number): number {
  return Math.round(x * 100) / 100;
}
