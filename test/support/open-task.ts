/**
 * A process whose only live work is one task: a node awaiting a promise that never settles, with a
 * wall-time limit of `argv[3]` ms, and a run store at `argv[2]`. Nothing else keeps the event loop
 * alive, so the process stays up only as long as agentwarden's own timer does. Prints how the
 * invoke ended.
 */
import { Annotation, START, StateGraph } from "@langchain/langgraph";
import { wrapGraph } from "../../adapters/langgraph/index.js";
import { Warden } from "../../src/index.js";

const [store, ms] = process.argv.slice(2);
const warden = new Warden({ tracing: false, store, limits: { maxDurationMs: Number(ms) } });
const graph = new StateGraph(Annotation.Root({ x: Annotation<number>() }))
  .addNode("wait", () => new Promise<{ x: number }>(() => {}))
  .addEdge(START, "wait")
  .compile();
wrapGraph(graph, { warden, name: "waiter" })
  .invoke({ x: 1 })
  .then(
    () => console.log("resolved"),
    (error: { code?: unknown }) => console.log(`rejected ${String(error.code)}`),
  );
