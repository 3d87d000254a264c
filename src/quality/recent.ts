import type { Run } from "../run/run.js";
import type { Subscriber } from "../subscriber.js";

/** What feedback needs to know of a finished run to be compared across versions. */
export interface RecentRun {
  id: string;
  agent: string;
  version?: string;
  thread?: string;
}

/** Default of the recent-runs index: runs remembered for feedback given by run or thread id. */
export const DEFAULT_RECENT_RUNS = 10_000;

/**
 * The last runs that ended (id, agent, version, thread), so that feedback given in this process by
 * run id or thread id is counted under the run's version. Bounded: the oldest are forgotten (their
 * feedback is still stored, and the report joins it by run id). One map insert per task.
 */
export class RecentRuns implements Subscriber {
  readonly name = "recent-runs";
  private readonly byId = new Map<string, RecentRun>();
  private readonly byThread = new Map<string, RecentRun>();

  constructor(private readonly size = DEFAULT_RECENT_RUNS) {}

  onTaskEnd(run: Run): void {
    const r: RecentRun = { id: run.id, agent: run.name };
    const version = run.version;
    if (version !== undefined) r.version = version;
    const thread = run.root.graph?.conversationId;
    if (thread !== undefined) {
      r.thread = thread;
      this.byThread.delete(thread);
      this.byThread.set(thread, r);
    }
    this.byId.set(r.id, r);
    if (this.byId.size > this.size) {
      const oldest = this.byId.keys().next().value as string;
      const gone = this.byId.get(oldest);
      this.byId.delete(oldest);
      if (gone?.thread !== undefined && this.byThread.get(gone.thread) === gone) this.byThread.delete(gone.thread);
    }
  }

  byRun(id: string): RecentRun | undefined {
    return this.byId.get(id);
  }

  /** The latest run of a thread. */
  latestOf(thread: string): RecentRun | undefined {
    return this.byThread.get(thread);
  }
}
