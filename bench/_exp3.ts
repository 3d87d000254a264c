import { wrapGraph } from "../adapters/langgraph/index.js";
import { Warden } from "../src/index.js";
import { interleave, ratios } from "./harness.js";
import { input, scriptedReactAgent } from "./react.js";

const bare = scriptedReactAgent(10);
const copy = scriptedReactAgent(10).withConfig({});
const ledger = wrapGraph(scriptedReactAgent(10), { warden: new Warden({ tracing: false }) });
const times = await interleave(
  [
    { name: "bare", run: async () => void (await bare.invoke(input)) },
    { name: "copy", run: async () => void (await copy.invoke(input)) },
    { name: "ledger", run: async () => void (await ledger.invoke(input)) },
  ],
  {
    rounds: Number(process.argv[2] ?? 100),
    perRound: Number(process.argv[3] ?? 5),
    warmup: 5,
    clock: (process.argv[4] ?? "wall") as "wall" | "cpu",
  },
);
for (const v of ["copy", "ledger"]) console.log(v, JSON.stringify(ratios(times, v, "bare")));
