import { input, scriptedReactAgent } from "./react.js";

const g = scriptedReactAgent(10);
for (let i = 0; i < 50; i++) await g.invoke(input);
const ts: number[] = [];
for (let i = 0; i < 60; i++) {
  const t = performance.now();
  for (let j = 0; j < 5; j++) await g.invoke(input);
  ts.push((performance.now() - t) / 5);
}
console.log(ts.map((x) => x.toFixed(1)).join(" "));
const t0 = performance.now();
let x = 0;
for (let i = 0; i < 3e8; i++) x += i;
console.log("loop", (performance.now() - t0).toFixed(0), x > 0);
const t1 = performance.now();
for (let i = 0; i < 3e8; i++) x += i;
console.log("loop", (performance.now() - t1).toFixed(0));
