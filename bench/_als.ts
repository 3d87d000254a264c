import { AsyncLocalStorage } from "node:async_hooks";
import { input, scriptedReactAgent } from "./react.js";
const extra = Number(process.argv[2] ?? 0);
const stores = Array.from({ length: extra }, () => new AsyncLocalStorage<number>());
const g = scriptedReactAgent(10);
const run = async () => { await g.invoke(input); };
const go = stores.reduce<() => Promise<void>>((f, s) => () => s.run(1, f), run);
for (let i = 0; i < 30; i++) await go();
const ts: number[] = [];
for (let i = 0; i < 200; i++) { const t = performance.now(); await go(); ts.push(performance.now() - t); }
ts.sort((a, b) => a - b);
console.log(extra, ts[100]?.toFixed(2));
