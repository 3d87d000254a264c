import { wrapGraph } from "../adapters/langgraph/index.js";
import { Warden } from "../src/index.js";
import { input, scriptedReactAgent } from "./react.js";
const which = process.argv[2];
const g = which === "bare" ? scriptedReactAgent(10) : wrapGraph(scriptedReactAgent(10), { warden: new Warden({ tracing: false }) });
for (let i = 0; i < 30; i++) await g.invoke(input);
const t = performance.now();
for (let i = 0; i < 300; i++) await g.invoke(input);
console.log(which, (performance.now() - t) / 300);
