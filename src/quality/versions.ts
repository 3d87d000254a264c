import type { TaskSummary } from "../metrics/summary.js";
import { addTask, emptyTotals, type Figures, figures, type Totals } from "../metrics/totals.js";
import type { EvalRecord } from "../store/records.js";
import { nullTable } from "../tables.js";
import { addScore, emptyScoreStats, type ScoreFigures, type ScoreStats, scoreFigures } from "./scores.js";

/** The key of tasks that ran with no version. */
export const NO_VERSION = "(none)";

/** One version's figures: the agent metrics, and each evaluator's (and feedback's) results. */
export interface VersionFigures extends Figures {
  /** Evaluation results by evaluator name (`user_feedback` for feedback unless named). */
  evals: Record<string, ScoreFigures>;
  /** Judge cost of the version's online evaluations, beside (not in) the agent's own cost. */
  evalCostUsd: number;
}

/**
 * Figures per version (`TaskSummary.version`, `NO_VERSION` when none): tasks and evaluation
 * results. Memory is bounded by the number of versions (capped at `maxKeys`, the rest `_other`)
 * and of evaluator names.
 */
export class VersionTable {
  private readonly tasks = new Map<string, Totals>();
  private readonly evals = new Map<string, Map<string, ScoreStats>>();

  constructor(private readonly maxKeys = 500) {}

  addTask(s: TaskSummary): void {
    addTask(this.slot(this.tasks, s.version ?? NO_VERSION, emptyTotals), s);
  }

  /** Adds an evaluation record under `version` (the record's own when not given). */
  addEval(r: EvalRecord, version = r.version): void {
    const byName = this.slot(this.evals, version ?? NO_VERSION, () => new Map<string, ScoreStats>());
    let stats = byName.get(r.name);
    if (!stats) {
      stats = emptyScoreStats();
      byName.set(r.name, stats);
    }
    addScore(stats, r);
  }

  /** Versions seen so far (tasks or evaluations). */
  get size(): number {
    return new Set([...this.tasks.keys(), ...this.evals.keys()]).size;
  }

  snapshot(): Record<string, VersionFigures> {
    const out = nullTable<VersionFigures>();
    for (const version of new Set([...this.tasks.keys(), ...this.evals.keys()])) {
      const evals = nullTable<ScoreFigures>();
      let evalCostUsd = 0;
      for (const [name, s] of this.evals.get(version) ?? []) {
        evals[name] = scoreFigures({ ...s });
        evalCostUsd += s.costUsd;
      }
      out[version] = { ...figures(structuredClone(this.tasks.get(version) ?? emptyTotals())), evals, evalCostUsd };
    }
    return out;
  }

  private slot<T>(map: Map<string, T>, key: string, make: () => T): T {
    let value = map.get(key);
    if (value) return value;
    const k = map.size >= this.maxKeys ? "_other" : key;
    value = map.get(k);
    if (!value) {
      value = make();
      map.set(k, value);
    }
    return value;
  }
}
