/**
 * The dashboard page's script (inlined with the page's nonce). Every value from the server is put in
 * the DOM with `textContent` or as an attribute value, never as HTML. The view (time range,
 * filters, search, page, open run) lives in the URL, so a view can be shared.
 */
export const CLIENT = String.raw`
"use strict";
const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
function el(tag, props, ...children) {
  const node = document.createElement(tag);
  if (props) for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null) continue;
    if (k === "text") node.textContent = v;
    else if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, String(v));
  }
  for (const c of children) if (c != null) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}
function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}
const pct = (x) => (x === null || x === undefined ? "n/a" : (x * 100).toFixed(1) + "%");
const usd = (x) => (x === null || x === undefined ? "n/a" : "$" + (x < 0.01 ? x.toFixed(6) : x.toFixed(4)));
const ms = (x) => (x < 1000 ? x.toFixed(0) + " ms" : (x / 1000).toFixed(2) + " s");
const num = (x) => Number(x).toLocaleString("en-US");
const pad = (n, w) => String(n).padStart(w || 2, "0");
function when(t, withDate) {
  const d = new Date(t);
  const time = pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()) + "." + pad(d.getMilliseconds(), 3);
  return withDate === false ? time : d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + time;
}
function tickLabel(t, bucketMs) {
  const d = new Date(t);
  const hm = pad(d.getHours()) + ":" + pad(d.getMinutes());
  if (bucketMs < 60000) return hm + ":" + pad(d.getSeconds());
  const day = pad(d.getMonth() + 1) + "-" + pad(d.getDate());
  if (bucketMs >= 86400000) return day;
  // Buckets of hours span days: the date too.
  return bucketMs >= 3600000 ? day + " " + hm : hm;
}
function span(ms) {
  for (const [unit, size] of [["week", 604800000], ["day", 86400000], ["h", 3600000], ["min", 60000], ["s", 1000]])
    if (ms >= size && ms % size === 0) return ms / size + " " + unit;
  return ms + " ms";
}
const RANGES = { "1h": 3600000, "24h": 86400000, "7d": 604800000 };
const FILTERS = ["agent", "version", "outcome", "tool", "model", "error", "trip", "guard"];

// The view, read from and written to the URL.
const view = new URLSearchParams(location.search);
function setView(changes, keepPage) {
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined || v === null || v === "") view.delete(k);
    else view.set(k, String(v));
  }
  if (!keepPage) view.delete("page");
  history.replaceState(null, "", "?" + view.toString());
  refresh();
}
function apiQuery() {
  const q = new URLSearchParams();
  const range = view.get("range") || "all";
  if (RANGES[range]) {
    q.set("from", String(Date.now() - RANGES[range]));
  } else if (range === "custom") {
    if (view.get("from")) q.set("from", view.get("from"));
    if (view.get("to")) q.set("to", view.get("to"));
  }
  for (const k of FILTERS.concat(["q", "page"])) if (view.get(k)) q.set(k, view.get(k));
  return q.toString();
}

let last = null;
let live = new Map();
let liveOn = false;
let selected = view.get("run");

function tile(id, value, sub) {
  const t = $(id);
  t.querySelector(".value").textContent = value;
  t.querySelector(".sub").textContent = sub;
}

function table(id, head, rows, onRow, texts) {
  const t = $(id);
  const cls = (i) => (i >= (texts || 1) ? "num" : "");
  t.replaceChildren(el("tr", null, ...head.map((h, i) => el("th", { text: h, class: cls(i) }))));
  if (rows.length === 0) t.append(el("tr", null, el("td", { text: "nothing in this view", class: "empty", colspan: head.length })));
  rows.forEach((r, k) => {
    const tr = el("tr", onRow ? { class: "link", onclick: () => onRow(k) } : null, ...r.map((c, i) => el("td", { text: c, class: cls(i) })));
    t.append(tr);
  });
}

const ratio = (x, a, b) => pct(x) + " (" + num(a) + "/" + num(b) + ")";
const meanScore = (e) => (e && e.meanScore !== null ? e.meanScore.toFixed(3) : "n/a") + " (" + num(e ? e.scored : 0) + ")";

function chart(title, points, bucketMs, key, opts) {
  const W = 320, H = 120, L = 44, R = 8, T = 8, B = 22;
  const values = points.map((p) => p[key]).filter((v) => v !== null);
  const box = el("div", { class: "chart", "data-testid": "chart-" + key });
  const lastValue = values.length ? opts.format(values[values.length - 1]) : "n/a";
  box.append(el("div", { class: "t", text: title + " · per " + span(bucketMs) + " · last " + lastValue }));
  const s = svg("svg", { viewBox: "0 0 " + W + " " + H, role: "img" });
  const max = opts.max || values.reduce((a, b) => Math.max(a, b), 0) || 1;
  const x = (i) => L + (points.length <= 1 ? (W - L - R) / 2 : (i / (points.length - 1)) * (W - L - R));
  const y = (v) => T + (1 - v / max) * (H - T - B);
  // Axes: the value scale at 0, half and the top; time labels at the first, middle and last bucket.
  for (const f of [0, 0.5, 1]) {
    s.append(svg("line", { x1: L, x2: W - R, y1: y(max * f), y2: y(max * f), class: "grid" }));
    s.append(svg("text", { x: L - 4, y: y(max * f) + 3, "text-anchor": "end", class: "axis" }, opts.format(max * f)));
  }
  if (points.length > 0) {
    const ticks = points.length === 1 ? [0] : [0, Math.floor((points.length - 1) / 2), points.length - 1];
    for (const i of ticks) {
      s.append(svg("text", { x: x(i), y: H - 6, "text-anchor": i === 0 && points.length > 1 ? "start" : i === points.length - 1 && points.length > 1 ? "end" : "middle", class: "axis" }, tickLabel(points[i].t, bucketMs)));
    }
  }
  if (opts.bars) {
    const w = Math.max(1, (W - L - R) / Math.max(points.length, 1) - 1);
    points.forEach((p, i) => {
      const v = p[key] || 0;
      const r = svg("rect", { x: x(i) - w / 2, y: y(v), width: w, height: Math.max(0, y(0) - y(v)), class: "bar" });
      r.append(svg("title", {}, when(p.t) + " + " + span(bucketMs) + ": " + opts.hover(p)));
      s.append(r);
    });
  } else {
    let d = "";
    points.forEach((p, i) => {
      if (p[key] === null) { d += " "; return; }
      d += (d.endsWith(" ") || d === "" ? " M" : " L") + x(i).toFixed(1) + " " + y(p[key]).toFixed(1);
    });
    s.append(svg("path", { d: d.trim() || "M0 0", class: "line" }));
    points.forEach((p, i) => {
      if (p[key] === null) return;
      const c = svg("circle", { cx: x(i).toFixed(1), cy: y(p[key]).toFixed(1), r: 3, class: "dot", "data-t": p.t });
      c.append(svg("title", {}, when(p.t) + " + " + span(bucketMs) + ": " + opts.hover(p)));
      s.append(c);
    });
  }
  box.append(s);
  return box;
}

function fillSelect(id, values, current, label) {
  const s = $("f-" + id);
  const wrap = s.parentElement;
  wrap.hidden = values.length === 0 && !current;
  const options = [el("option", { value: "", text: label + ": all" })];
  for (const v of values) options.push(el("option", { value: v, text: v }));
  if (current && !values.includes(current)) options.push(el("option", { value: current, text: current }));
  s.replaceChildren(...options);
  s.value = current || "";
}

function renderControls(data) {
  const range = view.get("range") || "all";
  for (const b of document.querySelectorAll("[data-range]")) b.classList.toggle("on", b.getAttribute("data-range") === range);
  $("custom").hidden = range !== "custom";
  if (range === "custom" && document.activeElement !== $("from") && document.activeElement !== $("to")) {
    if (view.get("from")) $("from").value = localInput(view.get("from"));
    if (view.get("to")) $("to").value = localInput(view.get("to"));
  }
  const f = data.facets;
  fillSelect("agent", f.agent, view.get("agent"), "agent");
  fillSelect("version", f.version, view.get("version"), "version");
  fillSelect("outcome", ["success", "failure", "interrupted", "cancelled"], view.get("outcome"), "outcome");
  fillSelect("tool", f.tool, view.get("tool"), "tool");
  fillSelect("model", f.model, view.get("model"), "model");
  fillSelect("error", f.error, view.get("error"), "error type");
  fillSelect("trip", f.trip, view.get("trip"), "trip");
  fillSelect("guard", f.guard, view.get("guard"), "guard");
  if (document.activeElement !== $("q")) $("q").value = view.get("q") || "";
}

function render(data) {
  last = data;
  $("src").textContent = data.store;
  $("updated").textContent = data.reading
    ? "reading the store: " + Math.floor((data.reading.bytes / Math.max(data.reading.size, 1)) * 100) + "% (" + num(data.storeRuns) + " runs so far)"
    : "updated " + when(data.readAt, false).slice(0, 8) + " · " + num(data.storeRuns) + " runs in the store";
  renderControls(data);
  const c = data.cumulative, t = c.totals;
  const failures = t.failures.tool + t.failures.model + t.failures.eval;
  const recovered = t.recovered.tool + t.recovered.model + t.recovered.eval;
  const r = data.range;
  $("scope").textContent = (r.from === null && r.to === null ? "all time" : (r.from !== null ? when(r.from) : "…") + " → " + (r.to !== null ? when(r.to) : "now")) + " · " + num(data.runCount) + " runs in view";
  tile("tile-asf", pct(c.asf), num(t.success) + " of " + num(t.success + t.failure) + " tasks succeeded · " + num(t.tasks) + " tasks");
  tile("tile-err", pct(c.err), num(recovered) + " of " + num(failures) + " failures recovered (" + num(t.injectedRecoveries) + " injected, " + num(t.organicRecoveries) + " organic)");
  tile("tile-cpcs", usd(c.cpcs), usd(t.costUsd) + " over " + num(t.completedSubtasks) + " completed subtasks" + (t.costUnknownCalls ? " · " + num(t.costUnknownCalls) + " calls of unknown price" : "") + (data.scores.length ? " · judge cost " + usd(data.evalCost.usd) + " beside it" : ""));
  const trips = Object.entries(t.trips).filter(([, n]) => n > 0);
  const loops = Object.entries(t.suspectedLoops || {}).filter(([, n]) => n > 0);
  tile("tile-trips", num(trips.reduce((a, [, n]) => a + n, 0)), (trips.length ? trips.map(([k, n]) => k + " " + n).join(" · ") + " · in " + (data.trips.length >= 50 ? data.trips.length + "+" : num(data.trips.length)) + " runs" : "none") + (loops.length ? " · suspected loops: " + loops.map(([k, n]) => k + " " + n).join(", ") : "") + (t.budgetReservations || t.budgetRefusals ? " · shared budgets: " + num(t.budgetReservations) + " reserved, " + num(t.budgetRefusals) + " refused, " + num(t.stateFallbacks) + " local fallbacks" : ""));

  const b = data.trendBucketMs;
  $("charts").replaceChildren(
    chart("Runs", data.trend, b, "tasks", { bars: true, format: (v) => String(Math.round(v)), hover: (p) => num(p.tasks) + " runs, " + num(p.failure) + " failed" }),
    chart("ASF", data.trend, b, "asf", { max: 1, format: (v) => pct(v).replace(".0%", "%"), hover: (p) => ratio(p.asf, p.success, p.success + p.failure) + " succeeded" }),
    chart("ERR", data.trend, b, "err", { max: 1, format: (v) => pct(v).replace(".0%", "%"), hover: (p) => ratio(p.err, p.recovered, p.failures) + " recovered" }),
    chart("CPCS", data.trend, b, "cpcs", { format: usd, hover: (p) => usd(p.cpcs) + " (" + usd(p.costUsd) + " / " + num(p.completedSubtasks) + " subtasks)" }),
  );
  $("bucket").textContent = "buckets of " + span(b) + " · hover a point for its values";

  table("agents", ["agent", "runs", "ASF", "ERR", "failures", "recovered", "CPCS", "cost", "mean time"], data.byAgent.map((g) => [g.name, num(g.totals.tasks), ratio(g.asf, g.totals.success, g.totals.success + g.totals.failure), ratio(g.err, g.recovered, g.failures), num(g.failures), num(g.recovered), usd(g.cpcs), usd(g.totals.costUsd), ms(g.meanDurationMs)]),
    (k) => setView({ agent: data.byAgent[k].name }));
  $("versions-section").hidden = data.byVersion.length === 0;
  // Each evaluator's mean score (with the count it is over) and the judge cost, when the runs in view have any.
  const scored = [...new Set(data.byVersion.flatMap((g) => Object.keys(g.scores)))].sort();
  const judged = data.scores.length > 0;
  // With evaluation columns the table takes the whole row.
  $("versions-section").classList.toggle("wide", judged);
  table("versions", ["version", "runs", "ASF", "ERR", "CPCS", "cost"].concat(judged ? ["judge cost"] : [], scored.map((n) => n + " (n)"), ["mean time"]), data.byVersion.map((g) => [g.name, num(g.totals.tasks), ratio(g.asf, g.totals.success, g.totals.success + g.totals.failure), ratio(g.err, g.recovered, g.failures), usd(g.cpcs) + " (" + num(g.totals.completedSubtasks) + ")", usd(g.totals.costUsd)].concat(judged ? [usd(g.evalCostUsd)] : [], scored.map((n) => meanScore(g.scores[n])), [ms(g.meanDurationMs)])),
    (k) => setView({ version: data.byVersion[k].name }));
  $("scores-section").hidden = !judged && !data.unjoinedRecords;
  $("scores-note").textContent = "judge cost " + usd(data.evalCost.usd) + (data.evalCost.unknownCalls ? " (+ " + num(data.evalCost.unknownCalls) + " calls of unknown price)" : "") + " beside the agents' " + usd(t.costUsd) + (data.unjoinedRecords ? " · " + num(data.unjoinedRecords) + " records of runs not in the store" : "");
  table("scores", ["evaluator", "kind", "results", "passed", "failed", "mean score (n)", "judge cost"], data.scores.map((e) => [e.name, e.kind === "feedback" ? "user feedback" : "online eval", num(e.count), num(e.passed), num(e.failed), meanScore(e), e.kind === "feedback" && !e.costUsd ? "–" : usd(e.costUsd)]), null, 2);
  const fees = data.byTool.some((x) => x.feesUsd > 0);
  table("tools", ["tool", "calls", "failures", "recovered", "ERR", "mean time"].concat(fees ? ["fees"] : []), data.byTool.map((x) => [x.tool, num(x.calls), num(x.failures), num(x.recovered), ratio(x.err, x.recovered, x.failures), ms(x.meanMs)].concat(fees ? [usd(x.feesUsd)] : [])),
    (k) => setView({ tool: data.byTool[k].tool }));
  table("errors", ["runs", "error type", "where", "agent", "sample message"], data.errorGroups.map((g) => [num(g.count), g.type, g.where, g.agent, g.message || g.sample]),
    (k) => openRun(data.errorGroups[k].sample), 5);
  table("trips", ["time", "agent", "breaker", "reason"], data.trips.map((x) => [when(x.start), x.agent, x.kinds.join(", "), x.reason]),
    (k) => openRun(data.trips[k].id), 4);
  $("evals-section").hidden = data.evals.length === 0;
  table("evals", ["evaluator", "evaluations", "passed", "failed", "mean score"], data.evals.map((e) => [e.name, num(e.runs), num(e.passed), num(e.failed), e.meanScore === null ? "n/a" : e.meanScore.toFixed(3)]));
  renderRuns();
  $("skipped-section").hidden = data.skipped.length === 0;
  $("skipped-title").textContent = "Unreadable store lines" + (data.skippedCount > data.skipped.length ? " · " + data.skippedCount + ", the last " + data.skipped.length + " shown" : "");
  $("skipped").replaceChildren(...data.skipped.map((s) => el("div", { class: "err", text: "line " + s.line + ": " + s.message })));
  if (data.live && !liveOn) startLive();
}

function runRow(r, running) {
  const steps = running ? r.steps.length + " steps so far" : "";
  const tr = el("tr", { class: "run" + (r.id === selected ? " sel" : "") + (running ? " running" : ""), "data-run": r.id, onclick: () => openRun(r.id) },
    el("td", { text: when(r.start), title: r.id }),
    el("td", { text: r.id.slice(0, 8), class: "mono", title: r.id }),
    el("td", { text: r.agent + (r.version ? " · " + r.version : "") }),
    el("td", { text: running ? "running" : r.outcome + (r.trips ? " (trip: " + r.tripKinds.join(", ") + ")" : ""), class: running ? "running" : r.outcome }),
    el("td", { class: "task" },
      el("div", { class: "in", text: running ? steps : r.input !== undefined ? "› " + r.input : r.error ? r.error : "" }),
      r.answer !== undefined ? el("div", { class: "out", text: "‹ " + r.answer }) : null),
    el("td", { text: r.thread || "", class: "mono" }),
    el("td", { text: running ? "" : ms(r.durationMs), class: "num" }),
    el("td", { text: running ? "" : usd(r.costUsd), class: "num" }),
    el("td", { text: running ? "" : r.failures, class: "num" }),
    el("td", { text: running ? "" : r.recovered, class: "num" }));
  if (r.error) tr.title = r.error;
  return tr;
}

function renderRuns() {
  const data = last;
  if (!data) return;
  const runs = $("runs");
  runs.replaceChildren(el("tr", null, ...["started", "run", "agent", "outcome", "task", "thread", "duration", "cost", "failures", "recovered"].map((h, i) => el("th", { text: h, class: i >= 6 ? "num" : "" }))));
  if (data.page === 0) for (const r of [...live.values()].reverse()) runs.append(runRow(r, true));
  for (const r of data.runs) runs.append(runRow(r, false));
  if (data.runs.length === 0 && live.size === 0) runs.append(el("tr", null, el("td", { text: "no runs in this view", class: "empty", colspan: 10 })));
  const from = data.page * data.pageSize;
  $("run-count").textContent = data.runCount === 0 ? "0 runs" : num(from + 1) + "–" + num(from + data.runs.length) + " of " + num(data.runCount) + " runs";
  $("prev").disabled = data.page === 0;
  $("next").disabled = from + data.runs.length >= data.runCount;
}

function label(st) {
  if (st.k === "agent" || st.k === "workflow") return st.k + " " + st.n;
  if (st.k === "node") return st.n;
  if (st.k === "recovery" && st.rc) return "recovery " + st.rc.to;
  return st.k + " " + st.n;
}

/** What a recovery step did, in words. */
function recoveryAction(st, steps, i) {
  const rc = st.rc;
  if (!rc) return "";
  const ok = st.s === "ok" ? "" : st.s === "running" ? " (running)" : " (failed)";
  if (rc.a === "retry") return "retried " + rc.to + (rc.n ? " (" + rc.n + " attempts in all)" : "") + ok;
  if (rc.a === "fallback") {
    const child = steps.find((x) => x.p === i && x.k === "tool");
    return "fell back to " + (child ? child.n : "a fallback") + " for " + rc.to + ok;
  }
  if (rc.a === "corrective_message") return "sent the model a corrective message about " + rc.to + ok;
  if (rc.a === "handler") return "answered " + rc.to + " with the onToolError handler's message" + ok;
  if (rc.a === "eval_correction") return "correction: ran " + rc.to + " again with the failed check's feedback" + ok;
  return rc.a + " " + rc.to + ok;
}

/** An online evaluation result or a user's feedback, in words (every value as text). */
function recordText(r) {
  const parts = [r.name];
  if (r.thumbs) parts.push("thumbs " + r.thumbs);
  if (r.pass !== undefined) parts.push(r.pass ? "passed" : "failed");
  if (r.score !== undefined) parts.push("score " + r.score);
  if (r.costUsd !== undefined) parts.push("judge cost " + usd(r.costUsd));
  if (r.costUnknownCalls) parts.push(r.costUnknownCalls + " judge calls of unknown price");
  if (r.reason) parts.push("reason: " + r.reason);
  if (r.correction) parts.push("correction: " + r.correction);
  if (r.comment) parts.push("comment: " + r.comment);
  return parts.join(" · ");
}

const tripText = (m) => m.replace(/^agentwarden: /, "").replace(/^\w+ breaker tripped: /, "");

function renderRun(s, running) {
  $("run-title").textContent = "Run " + s.agent + " · " + (running ? "running" : s.outcome + " · " + ms(s.durationMs) + " · " + usd(s.costUsd));
  const box = $("run");
  box.replaceChildren();
  const facts = [["run", s.id], ["started", when(s.start)]];
  if (s.conversationId) facts.push(["thread", s.conversationId]);
  if (s.version) facts.push(["version", s.version]);
  if (!running) facts.push(["failures", (s.failures.tool + s.failures.model + s.failures.eval) + ", recovered " + (s.recovered.tool + s.recovered.model + s.recovered.eval) + (s.retries ? ", retries " + s.retries : "")]);
  if (!running && s.fleet) facts.push(["shared budgets", s.fleet.reservations + " reserved, " + s.fleet.refusals + " refused, " + s.fleet.fallbacks + " local fallbacks"]);
  box.append(el("div", { class: "facts" }, ...facts.map(([k, v]) => el("div", null, el("span", { class: "k", text: k }), el("span", { text: v, class: "mono" })))));
  if (s.input !== undefined) box.append(el("div", { class: "io" }, el("span", { class: "k", text: "input" }), el("span", { text: s.input })));
  if (s.answer !== undefined) box.append(el("div", { class: "io" }, el("span", { class: "k", text: "answer" }), el("span", { text: s.answer })));
  for (const r of s.evalRecords || []) box.append(el("div", { class: "rec " + (r.pass === false || r.thumbs === "down" ? "bad" : "ok"), "data-testid": r.type === "feedback" ? "run-feedback" : "run-eval", title: when(r.time) }, el("span", { class: "k", text: r.type === "feedback" ? "feedback" : "eval" }), el("span", { text: recordText(r) })));
  const shown = new Set();
  if (s.error) {
    box.append(el("div", { class: "err", "data-testid": "run-error", text: s.error.type + ": " + s.error.message }));
    shown.add(tripText(s.error.message));
  }
  const steps = s.steps;
  const depth = steps.map(() => 0);
  const total = Math.max(running ? Date.now() - s.start : s.durationMs, 0.001);
  steps.forEach((st, i) => {
    if (st.p >= 0) depth[i] = depth[st.p] + 1;
    const name = label(st);
    const facts = [st.s === "running" ? "running" : ms(st.d)];
    if (st.tok) facts.push(st.tok[0] + "/" + st.tok[1] + " tok" + (st.est ? " (est.)" : ""));
    if (st.usd !== undefined) facts.push(usd(st.usd));
    if (st.fb) facts.push("fallback for " + st.fb);
    if (st.ev) facts.push((st.ev.pass === undefined ? "" : st.ev.pass ? "passed" : "failed") + (st.ev.score !== undefined ? " score " + st.ev.score : ""));
    else if (st.inj && !st.rc) facts.push("injected");
    const bar = el("span");
    bar.style.left = (st.t / total * 100).toFixed(2) + "%";
    bar.style.width = Math.max((st.s === "running" ? total - st.t : st.d) / total * 100, 0.3).toFixed(2) + "%";
    const row = el("div", { class: "step " + (st.s === "error" ? "error " : "") + (st.s === "running" ? "running " : "") + st.k, "data-testid": "step" },
      el("div", { class: "name", text: "\u00a0".repeat(depth[i] * 2) + name, title: name }),
      el("div", null, el("div", { class: "bar" }, bar), el("span", { class: "meta", text: facts.join(" · ") })));
    box.append(row);
    const indent = "\u00a0".repeat(depth[i] * 2 + 2);
    if (st.rc) box.append(el("div", { class: "action", "data-testid": "recovery", text: indent + "↳ " + recoveryAction(st, steps, i) }));
    if (st.hint) box.append(el("div", { class: "hint", "data-testid": "loop-hint", text: indent + "⟳ loop hint: the call repeated; agentwarden answered with a hint instead of running it" }));
    if (st.e) {
      const text = tripText(st.e.message);
      if (shown.has(text)) box.append(el("div", { class: "dim", text: indent + st.e.type + " (the same as above)" }));
      else {
        shown.add(text);
        box.append(el("div", { class: "err", text: indent + st.e.type + ": " + st.e.message }));
      }
    }
  });
}

async function openRun(id) {
  if (!id) return;
  selected = id;
  if (view.get("run") !== id) {
    view.set("run", id);
    history.replaceState(null, "", "?" + view.toString());
  }
  for (const tr of document.querySelectorAll("tr.run")) tr.classList.toggle("sel", tr.getAttribute("data-run") === id);
  const running = live.get(id);
  if (running) {
    renderRun(running, true);
    return;
  }
  const res = await fetch("api/runs/" + encodeURIComponent(id));
  if (!res.ok || selected !== id) return;
  renderRun(await res.json(), false);
}

function startLive() {
  liveOn = true;
  $("live").hidden = false;
  const source = new EventSource("api/live");
  source.onmessage = (m) => {
    const e = JSON.parse(m.data);
    if (e.type === "hello") {
      live = new Map(e.runs.map((r) => [r.id, r]));
    } else if (e.type === "run") {
      live.set(e.run.id, e.run);
    } else if (e.type === "step") {
      const r = live.get(e.run);
      if (!r) return;
      r.steps[e.i] = e.step;
    } else if (e.type === "end") {
      live.delete(e.run);
      refresh().then(() => { if (selected === e.run) openRun(e.run); });
    }
    renderRuns();
    if (selected && live.has(selected)) renderRun(live.get(selected), true);
  };
}

function notice(text) {
  $("notice").hidden = !text;
  $("notice").textContent = text || "";
}

let seq = 0;
async function refresh() {
  const mine = ++seq;
  try {
    const res = await fetch("api/data?" + apiQuery());
    const body = await res.json();
    if (mine !== seq) return;
    if (res.ok) render(body);
    notice(res.ok ? body.storeError : body.error || "the dashboard could not read the store");
    if (res.ok && body.reading) setTimeout(refresh, 300);
  } catch (e) {
    $("updated").textContent = "disconnected";
  }
}

for (const b of document.querySelectorAll("[data-range]")) {
  b.addEventListener("click", () => {
    const range = b.getAttribute("data-range");
    if (range === "custom") {
      const to = last && last.range.to !== null ? last.range.to : Date.now();
      const from = last && last.range.from !== null ? last.range.from : to - 86400000;
      setView({ range: "custom", from: from, to: to });
    } else setView({ range: range === "all" ? "" : range, from: "", to: "" });
  });
}
function localInput(t) {
  const d = new Date(Number(t));
  return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + pad(d.getHours()) + ":" + pad(d.getMinutes());
}
$("apply").addEventListener("click", () => {
  const from = new Date($("from").value).getTime(), to = new Date($("to").value).getTime();
  if (Number.isFinite(from) && Number.isFinite(to) && to > from) setView({ range: "custom", from: from, to: to });
});
for (const f of FILTERS) $("f-" + f).addEventListener("change", (e) => setView({ [f]: e.target.value }));
let typing;
$("q").addEventListener("input", (e) => {
  clearTimeout(typing);
  typing = setTimeout(() => setView({ q: e.target.value.trim() }), 200);
});
$("clear").addEventListener("click", () => {
  for (const k of FILTERS.concat(["q", "range", "from", "to", "page", "run"])) view.delete(k);
  setView({});
});
$("prev").addEventListener("click", () => setView({ page: Math.max(0, Number(view.get("page") || 0) - 1) }, true));
$("next").addEventListener("click", () => setView({ page: Number(view.get("page") || 0) + 1 }, true));
refresh().then(() => { if (selected) openRun(selected); });
setInterval(() => { if (!document.hidden) refresh(); }, 2000);
`;
