import { type OnlineEvaluator, Warden } from "agentwarden";
import { wrapGraph } from "agentwarden/langgraph";
import { interleave, quantile, type RatioFigure, ratios, round } from "./harness.js";
import { input, scriptedReactAgent } from "./react.js";

const STEPS = 2;

export interface OnlineFigures {
  description: string;
  /** Under load: `tasks` tasks back to back, a 10% sample, a judge taking `judgeMs` each, a bounded queue. */
  load: {
    tasks: number;
    sampled: number;
    evaluated: number;
    dropped: { queue_full: number; budget: number; shutdown: number };
    queueSize: number;
    /** The deepest the queue got (sampled at each task end): never above `queueSize`. */
    maxPending: number;
    /** Median and p99 of a task's own duration (ms), with the slow judge behind it and without online evaluation. */
    taskMs: { withOnline: { p50: number; p99: number }; without: { p50: number; p99: number } };
  };
  /** Interleaved A/B: the agent's run time with online evaluation on (10%, a trivial judge) over without. */
  overhead: { bareMsPerRunMedian: number; off: RatioFigure; online: RatioFigure };
}

/**
 * Online evaluation under load and its cost on the agent's path. Load: 10,000 tasks of a 2-step
 * scripted ReAct agent with a 10% sample and a judge that takes 50 ms, from a queue of 50 with 2
 * workers: how many are evaluated and dropped, how deep the queue gets, and the tasks' own
 * durations beside the same tasks without online evaluation. Overhead: bare, Warden (tracing off),
 * and the same Warden with online evaluation on, interleaved.
 */
export async function onlineBench(options: { tasks: number; rounds: number }): Promise<OnlineFigures> {
  const judgeMs = 50;
  const slowJudge: OnlineEvaluator = {
    name: "slow_judge",
    evaluate: () => new Promise((resolve) => setTimeout(() => resolve({ pass: true, score: 0.8 }), judgeMs)),
  };
  const queueSize = 50;
  const loaded = new Warden({
    tracing: false,
    online: { evaluators: [slowJudge], sampleRate: 0.1, queueSize, concurrency: 2 },
  });
  const loadedGraph = wrapGraph(scriptedReactAgent(STEPS), { warden: loaded });
  const plain = new Warden({ tracing: false });
  const plainGraph = wrapGraph(scriptedReactAgent(STEPS), { warden: plain });
  let maxPending = 0;
  loaded.onTaskEnd(() => {
    // after the online evaluator's own onTaskEnd (added before this listener): the queue as it is now
    maxPending = Math.max(maxPending, loaded.online?.stats().pending ?? 0);
  });
  const timed = async (run: () => Promise<unknown>, n: number) => {
    const ms: number[] = [];
    for (let i = 0; i < 200; i++) await run(); // warm-up
    for (let i = 0; i < n; i++) {
      const start = performance.now();
      await run();
      ms.push(performance.now() - start);
      // Between tasks the event loop turns, as between a server's requests (the scripted agent does
      // no I/O: without this, nothing queued behind it, a judge's timer included, could run).
      await new Promise((resolve) => setImmediate(resolve));
    }
    ms.sort((a, b) => a - b);
    return { p50: round(quantile(ms, 0.5), 3), p99: round(quantile(ms, 0.99), 3) };
  };
  const without = await timed(() => plainGraph.invoke(input), options.tasks);
  const withOnline = await timed(() => loadedGraph.invoke(input), options.tasks);
  maxPending = Math.max(maxPending, 0);
  await loaded.flush();
  const stats = loaded.online?.stats();

  const trivial: OnlineEvaluator = { name: "trivial", evaluate: () => true };
  const off = new Warden({ tracing: false });
  const on = new Warden({ tracing: false, online: { evaluators: [trivial], sampleRate: 0.1 } });
  const bare = scriptedReactAgent(STEPS);
  const offGraph = wrapGraph(scriptedReactAgent(STEPS), { warden: off });
  const onGraph = wrapGraph(scriptedReactAgent(STEPS), { warden: on });
  const times = await interleave(
    [
      { name: "bare", run: async () => void (await bare.invoke(input)) },
      { name: "off", run: async () => void (await offGraph.invoke(input)) },
      { name: "online", run: async () => void (await onGraph.invoke(input)) },
    ],
    { rounds: options.rounds, perRound: 10, warmup: 5 },
  );
  await on.flush();
  const bareSorted = [...(times.bare ?? [])].sort((a, b) => a - b);
  return {
    description: `${STEPS}-step scripted ReAct run; load: ${options.tasks} tasks (after 200 warm-up runs, sampled too), 10% sample, a ${judgeMs} ms judge, queue ${queueSize}, 2 workers; overhead: ${options.rounds} interleaved rounds of 10 runs, tracing off`,
    load: {
      tasks: options.tasks,
      sampled: stats?.sampled ?? 0,
      evaluated: stats?.evaluated ?? 0,
      dropped: stats?.dropped ?? { queue_full: 0, budget: 0, shutdown: 0 },
      queueSize,
      maxPending,
      taskMs: { withOnline, without },
    },
    overhead: {
      bareMsPerRunMedian: round(quantile(bareSorted, 0.5), 3),
      off: ratios(times, "off", "bare"),
      online: ratios(times, "online", "bare"),
    },
  };
}
