import type { TaskSummary } from "../metrics/summary.js";
import type { EvalRecord } from "../store/records.js";

/**
 * Joins evaluation records read from a store to their runs, for records written without the run's
 * version (feedback from another process): by run id, or by the thread's latest run before the
 * record. Remembers only runs that have a version (and, per thread, the latest run).
 */
export class RecordJoin {
  private readonly versions = new Map<string, string>();
  private readonly threads = new Map<string, { id: string; version?: string }>();

  addSummary(s: TaskSummary): void {
    if (s.version !== undefined) this.versions.set(s.id, s.version);
    if (s.conversationId !== undefined)
      this.threads.set(s.conversationId, s.version === undefined ? { id: s.id } : { id: s.id, version: s.version });
  }

  /** The version the record counts under. */
  versionOf(r: EvalRecord): string | undefined {
    if (r.version !== undefined) return r.version;
    if (r.run !== undefined) return this.versions.get(r.run);
    if (r.thread !== undefined) return this.threads.get(r.thread)?.version;
    return undefined;
  }
}
