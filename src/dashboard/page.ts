/**
 * The dashboard page: one self-contained document, nothing loaded from elsewhere. Every value from
 * the store reaches the page as JSON through `fetch` and is put in the DOM with `textContent` (never
 * as HTML), and the page's Content-Security-Policy only runs the script carrying this response's
 * nonce — so a tool result or error holding `<script>` is shown as text, never run.
 */
export function page(nonce: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>agentwarden</title>
<style nonce="${nonce}">
  :root { --bg:#0f1115; --panel:#171a21; --line:#262b36; --text:#e6e8ee; --dim:#8b93a7; --ok:#3fb950; --bad:#f85149; --warn:#d29922; --accent:#58a6ff; }
  * { box-sizing: border-box; }
  body { margin:0; font:14px/1.45 system-ui, -apple-system, Segoe UI, Roboto, sans-serif; background:var(--bg); color:var(--text); }
  header { display:flex; align-items:baseline; gap:16px; padding:14px 24px; border-bottom:1px solid var(--line); }
  header h1 { font-size:18px; margin:0; }
  header .src { color:var(--dim); font-size:12px; }
  main { padding:20px 24px; display:grid; gap:20px; }
  .tiles { display:grid; grid-template-columns:repeat(4, minmax(180px, 1fr)); gap:16px; }
  .tile { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:14px 16px; }
  .tile .label { color:var(--dim); font-size:12px; text-transform:uppercase; letter-spacing:.06em; }
  .tile .value { font-size:30px; font-weight:600; margin:4px 0; }
  .tile .sub { color:var(--dim); font-size:12px; }
  section { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:14px 16px; }
  section h2 { font-size:14px; margin:0 0 10px; color:var(--dim); text-transform:uppercase; letter-spacing:.06em; }
  table { border-collapse:collapse; width:100%; }
  th, td { text-align:left; padding:5px 8px; border-bottom:1px solid var(--line); white-space:nowrap; }
  th { color:var(--dim); font-weight:500; font-size:12px; }
  td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
  tr.run { cursor:pointer; } tr.run:hover { background:#1d2230; } tr.run.sel { background:#1f2a3d; }
  .success { color:var(--ok); } .failure { color:var(--bad); } .cancelled, .interrupted { color:var(--warn); }
  .grid2 { display:grid; grid-template-columns:1fr 1fr; gap:20px; }
  .charts { display:grid; grid-template-columns:repeat(3, 1fr); gap:16px; }
  .chart svg { width:100%; height:90px; }
  .chart .t { color:var(--dim); font-size:12px; }
  .tree { font-family:ui-monospace, SFMono-Regular, Menlo, monospace; font-size:12px; }
  .step { display:grid; grid-template-columns:minmax(260px, 38%) 1fr; gap:10px; align-items:center; padding:2px 0; }
  .step .name { overflow:hidden; text-overflow:ellipsis; white-space:nowrap; }
  .step .bar { position:relative; height:12px; background:#11141a; border-radius:2px; }
  .step .bar span { position:absolute; top:0; bottom:0; background:var(--accent); border-radius:2px; min-width:2px; }
  .step.error .bar span { background:var(--bad); } .step.recovery .bar span { background:var(--warn); }
  .step .meta { color:var(--dim); }
  .err { color:var(--bad); white-space:pre-wrap; }
  .empty { color:var(--dim); }
  .notice { background:#2a1d12; border:1px solid var(--warn); color:var(--warn); border-radius:8px; padding:10px 16px; }
  .scroll { max-height:340px; overflow:auto; }
</style>
</head>
<body>
<header><h1>agentwarden</h1><span class="src" id="src"></span><span class="src" id="updated"></span></header>
<main>
  <div id="notice" class="notice" data-testid="notice" hidden></div>
  <div class="tiles">
    <div class="tile" id="tile-asf"><div class="label">ASF · agent success fraction</div><div class="value" data-testid="asf">–</div><div class="sub"></div></div>
    <div class="tile" id="tile-err"><div class="label">ERR · error recovery rate</div><div class="value" data-testid="err">–</div><div class="sub"></div></div>
    <div class="tile" id="tile-cpcs"><div class="label">CPCS · cost per completed subtask</div><div class="value" data-testid="cpcs">–</div><div class="sub"></div></div>
    <div class="tile" id="tile-trips"><div class="label">breaker trips</div><div class="value" data-testid="trips">–</div><div class="sub"></div></div>
  </div>
  <section><h2>Trends</h2><div class="charts" id="charts"></div></section>
  <div class="grid2">
    <section><h2>Per agent</h2><table id="agents"></table></section>
    <section><h2>Per tool</h2><table id="tools"></table></section>
  </div>
  <div class="grid2">
    <section><h2>Runs</h2><div class="scroll"><table id="runs"></table></div></section>
    <section><h2 id="run-title">Run</h2><div id="run" class="tree"><span class="empty">Select a run to see its steps.</span></div></section>
  </div>
  <section id="skipped-section" hidden><h2 id="skipped-title">Unreadable store lines</h2><div id="skipped"></div></section>
</main>
<script nonce="${nonce}">
"use strict";
const $ = (id) => document.getElementById(id);
function el(tag, props, ...children) {
  const node = document.createElement(tag);
  if (props) for (const [k, v] of Object.entries(props)) {
    if (k === "text") node.textContent = v;
    else if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, String(v));
  }
  for (const c of children) if (c != null) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}
const pct = (x) => (x === null || x === undefined ? "n/a" : (x * 100).toFixed(1) + "%");
const usd = (x) => (x === null || x === undefined ? "n/a" : "$" + (x < 0.01 ? x.toFixed(6) : x.toFixed(4)));
const ms = (x) => (x < 1000 ? x.toFixed(0) + " ms" : (x / 1000).toFixed(2) + " s");
let selected = null;

function tile(id, value, sub) {
  const t = $(id);
  t.querySelector(".value").textContent = value;
  t.querySelector(".sub").textContent = sub;
}

function table(id, head, rows) {
  const t = $(id);
  t.replaceChildren(el("tr", null, ...head.map((h, i) => el("th", { text: h, class: i ? "num" : "" }))));
  if (rows.length === 0) t.append(el("tr", null, el("td", { text: "nothing yet", class: "empty", colspan: head.length })));
  for (const r of rows) t.append(el("tr", null, ...r.map((c, i) => el("td", { text: c, class: i ? "num" : "" }))));
}

function chart(title, points, key, format) {
  const values = points.map((p) => p[key]).filter((v) => v !== null);
  const box = el("div", { class: "chart" }, el("div", { class: "t", text: title + (values.length ? " · last " + format(values[values.length - 1]) : "") }));
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 300 90");
  svg.setAttribute("preserveAspectRatio", "none");
  if (values.length > 0) {
    const max = key === "cpcs" ? values.reduce((a, b) => Math.max(a, b), 0) || 1 : 1;
    const xs = points.map((_, i) => (points.length === 1 ? 150 : (i / (points.length - 1)) * 296 + 2));
    let d = "";
    points.forEach((p, i) => {
      if (p[key] === null) return;
      const y = 86 - (p[key] / max) * 80;
      d += (d ? " L" : "M") + xs[i].toFixed(1) + " " + y.toFixed(1);
    });
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", d);
    path.setAttribute("fill", "none");
    path.setAttribute("stroke", "#58a6ff");
    path.setAttribute("stroke-width", "2");
    svg.append(path);
    points.forEach((p, i) => {
      if (p[key] === null) return;
      const dot = document.createElementNS(ns, "circle");
      dot.setAttribute("cx", xs[i].toFixed(1));
      dot.setAttribute("cy", (86 - (p[key] / max) * 80).toFixed(1));
      dot.setAttribute("r", "2.5");
      dot.setAttribute("fill", "#58a6ff");
      svg.append(dot);
    });
  }
  box.append(svg);
  return box;
}

function render(data) {
  $("src").textContent = data.store;
  $("updated").textContent = "updated " + new Date(data.readAt).toLocaleTimeString();
  const c = data.snapshot.cumulative, t = c.totals;
  const failures = t.failures.tool + t.failures.model + t.failures.eval;
  const recovered = t.recovered.tool + t.recovered.model + t.recovered.eval;
  tile("tile-asf", pct(c.asf), t.success + " of " + (t.success + t.failure) + " tasks succeeded · " + t.tasks + " tasks");
  tile("tile-err", pct(c.err), recovered + " of " + failures + " failures recovered (" + t.injectedRecoveries + " injected, " + t.organicRecoveries + " organic)");
  tile("tile-cpcs", usd(c.cpcs), usd(t.costUsd) + " over " + t.completedSubtasks + " completed subtasks" + (t.costUnknownCalls ? " · " + t.costUnknownCalls + " calls of unknown price" : ""));
  const trips = Object.entries(t.trips).filter(([, n]) => n > 0);
  const loops = Object.entries(t.suspectedLoops || {}).filter(([, n]) => n > 0);
  tile("tile-trips", String(trips.reduce((a, [, n]) => a + n, 0)), (trips.length ? trips.map(([k, n]) => k + " " + n).join(" · ") : "none") + (loops.length ? " · suspected loops: " + loops.map(([k, n]) => k + " " + n).join(", ") : ""));
  $("charts").replaceChildren(chart("ASF", data.trend, "asf", pct), chart("ERR", data.trend, "err", pct), chart("CPCS", data.trend, "cpcs", usd));
  table("agents", ["agent", "tasks", "ASF", "ERR", "CPCS", "cost"], Object.entries(data.snapshot.byAgent).map(([name, f]) => [name, f.totals.tasks, pct(f.asf), pct(f.err), usd(f.cpcs), usd(f.totals.costUsd)]));
  table("tools", ["tool", "calls", "failures", "recovered", "ERR", "cost"], Object.entries(data.snapshot.byTool).map(([name, f]) => [name, f.calls, f.failures, f.recovered, pct(f.err), usd(f.costUsd)]));
  const runs = $("runs");
  runs.replaceChildren(el("tr", null, ...["run", "agent", "outcome", "duration", "cost", "failures", "recovered"].map((h) => el("th", { text: h }))));
  for (const r of data.runs) {
    const tr = el("tr", { class: "run" + (r.id === selected ? " sel" : ""), "data-run": r.id, onclick: () => openRun(r.id) },
      el("td", { text: new Date(r.start).toLocaleTimeString() }), el("td", { text: r.agent }), el("td", { text: r.outcome + (r.trips ? " (trip)" : ""), class: r.outcome }),
      el("td", { text: ms(r.durationMs), class: "num" }), el("td", { text: usd(r.costUsd), class: "num" }), el("td", { text: r.failures, class: "num" }), el("td", { text: r.recovered, class: "num" }));
    if (r.error) tr.title = r.error;
    runs.append(tr);
  }
  $("skipped-section").hidden = data.skipped.length === 0;
  $("skipped-title").textContent = "Unreadable store lines" + (data.skippedCount > data.skipped.length ? " · " + data.skippedCount + ", the last " + data.skipped.length + " shown" : "");
  $("skipped").replaceChildren(...data.skipped.map((s) => el("div", { class: "err", text: "line " + s.line + ": " + s.message })));
}

async function openRun(id) {
  selected = id;
  for (const tr of document.querySelectorAll("tr.run")) tr.classList.toggle("sel", tr.getAttribute("data-run") === id);
  const res = await fetch("api/runs/" + encodeURIComponent(id));
  if (!res.ok) return;
  const s = await res.json();
  $("run-title").textContent = "Run " + s.agent + " · " + s.outcome + " · " + ms(s.durationMs) + " · " + usd(s.costUsd);
  const box = $("run");
  box.replaceChildren();
  if (s.error) box.append(el("div", { class: "err", "data-testid": "run-error", text: s.error.type + ": " + s.error.message }));
  const depth = s.steps.map(() => 0);
  const total = Math.max(s.durationMs, 0.001);
  s.steps.forEach((st, i) => {
    if (st.p >= 0) depth[i] = depth[st.p] + 1;
    const label = st.k === "agent" || st.k === "workflow" ? st.k + " " + st.n : st.k === "node" ? st.n : st.k + " " + st.n;
    const facts = [ms(st.d)];
    if (st.tok) facts.push(st.tok[0] + "/" + st.tok[1] + " tok" + (st.est ? " (est.)" : ""));
    if (st.usd !== undefined) facts.push(usd(st.usd));
    if (st.inj) facts.push("injected");
    const bar = el("span");
    bar.style.left = (st.t / total * 100).toFixed(2) + "%";
    bar.style.width = Math.max(st.d / total * 100, 0.3).toFixed(2) + "%";
    const row = el("div", { class: "step " + (st.s === "error" ? "error " : "") + st.k, "data-testid": "step" },
      el("div", { class: "name", text: "\\u00a0".repeat(depth[i] * 2) + label, title: label }),
      el("div", null, el("div", { class: "bar" }, bar), el("span", { class: "meta", text: facts.join(" · ") })));
    box.append(row);
    if (st.e) box.append(el("div", { class: "err", text: "\\u00a0".repeat(depth[i] * 2 + 2) + st.e.type + ": " + st.e.message }));
  });
}

function notice(text) {
  $("notice").hidden = !text;
  $("notice").textContent = text || "";
}

async function refresh() {
  try {
    const res = await fetch("api/data");
    const body = await res.json();
    if (res.ok) render(body);
    notice(res.ok ? body.storeError : body.error || "the dashboard could not read the store");
  } catch (e) {
    $("updated").textContent = "disconnected";
  }
}
refresh();
setInterval(refresh, 2000);
</script>
</body>
</html>`;
}
