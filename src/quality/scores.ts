import type { EvalRecord } from "../store/records.js";

/** Evaluation results of one evaluator (or of user feedback), summed. */
export interface ScoreStats {
  /** Results recorded (verdicts, scores, feedback). */
  count: number;
  passed: number;
  failed: number;
  /** Results that carried a score, and their sum (the mean is `scoreSum / scored`). */
  scored: number;
  scoreSum: number;
  /** Sum of squared scores: with `scoreSum`, the scores' variance (for the noise of a comparison). */
  scoreSumSq: number;
  /** Judge cost of these results in USD, and judge calls with no price. */
  costUsd: number;
  costUnknownCalls: number;
}

/** ScoreStats with their ratios: null when there is nothing to divide by. */
export interface ScoreFigures extends ScoreStats {
  meanScore: number | null;
  passRate: number | null;
}

export function emptyScoreStats(): ScoreStats {
  return { count: 0, passed: 0, failed: 0, scored: 0, scoreSum: 0, scoreSumSq: 0, costUsd: 0, costUnknownCalls: 0 };
}

/** Adds one evaluation record. Feedback with thumbs but no pass counts thumbs up as a pass. */
export function addScore(s: ScoreStats, r: EvalRecord): void {
  s.count++;
  const pass = passOf(r);
  if (pass === true) s.passed++;
  else if (pass === false) s.failed++;
  const score = scoreOf(r);
  if (score !== undefined) {
    s.scored++;
    s.scoreSum += score;
    s.scoreSumSq += score * score;
  }
  if (r.costUsd !== undefined) s.costUsd += r.costUsd;
  if (r.costUnknownCalls !== undefined) s.costUnknownCalls += r.costUnknownCalls;
}

/** A record's verdict: its own, or for feedback with thumbs only, up passes and down fails. */
export function passOf(r: EvalRecord): boolean | undefined {
  return r.pass ?? (r.thumbs === undefined ? undefined : r.thumbs === "up");
}

/** A record's score: its own, or for feedback with thumbs only, 1 for up and 0 for down. */
export function scoreOf(r: EvalRecord): number | undefined {
  if (r.score !== undefined) return r.score;
  if (r.thumbs !== undefined) return r.thumbs === "up" ? 1 : 0;
  return undefined;
}

export function scoreFigures(s: ScoreStats): ScoreFigures {
  return {
    ...s,
    meanScore: s.scored > 0 ? s.scoreSum / s.scored : null,
    passRate: s.passed + s.failed > 0 ? s.passed / (s.passed + s.failed) : null,
  };
}
