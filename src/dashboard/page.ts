import { CLIENT } from "./client.js";

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
  [hidden] { display:none !important; }
  body { margin:0; font:14px/1.45 system-ui, -apple-system, Segoe UI, Roboto, sans-serif; background:var(--bg); color:var(--text); }
  header { display:flex; align-items:baseline; gap:16px; padding:14px 24px; border-bottom:1px solid var(--line); }
  header h1 { font-size:18px; margin:0; }
  header .src { color:var(--dim); font-size:12px; }
  main { padding:20px 24px; display:grid; gap:20px; }
  .controls { display:flex; flex-wrap:wrap; gap:8px; align-items:center; }
  .controls button, .controls select, .controls input { background:var(--panel); color:var(--text); border:1px solid var(--line); border-radius:6px; padding:5px 9px; font:inherit; font-size:13px; }
  .controls button.on { border-color:var(--accent); color:var(--accent); }
  .controls label[hidden] { display:none; }
  .controls input[type=search] { min-width:260px; }
  .group { display:flex; gap:4px; align-items:center; }
  .scope { color:var(--dim); font-size:12px; }
  .live { color:var(--ok); font-size:12px; }
  .tiles { display:grid; grid-template-columns:repeat(4, minmax(180px, 1fr)); gap:16px; }
  .tile { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:14px 16px; }
  .tile .label { color:var(--dim); font-size:12px; text-transform:uppercase; letter-spacing:.06em; }
  .tile .value { font-size:30px; font-weight:600; margin:4px 0; }
  .tile .sub { color:var(--dim); font-size:12px; }
  section { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:14px 16px; }
  section h2 { font-size:14px; margin:0 0 10px; color:var(--dim); text-transform:uppercase; letter-spacing:.06em; }
  table { border-collapse:collapse; width:100%; }
  th, td { text-align:left; padding:5px 8px; border-bottom:1px solid var(--line); white-space:nowrap; max-width:460px; overflow:hidden; text-overflow:ellipsis; }
  th { color:var(--dim); font-weight:500; font-size:12px; }
  td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
  tr.run { cursor:pointer; } tr.run:hover { background:#1d2230; } tr.run.sel { background:#1f2a3d; }
  .success { color:var(--ok); } .failure { color:var(--bad); } .cancelled, .interrupted { color:var(--warn); }
  .grid2 { display:grid; grid-template-columns:minmax(0, 1fr) minmax(0, 1fr); gap:20px; }
  section { min-width:0; } section.wide { grid-column:1 / -1; }
  .charts { display:grid; grid-template-columns:repeat(4, minmax(0, 1fr)); gap:16px; }
  .chart svg { width:100%; height:auto; overflow:visible; }
  .chart .t { color:var(--dim); font-size:12px; }
  .chart .axis { fill:var(--dim); font-size:9px; }
  .chart .grid { stroke:var(--line); stroke-width:1; }
  .chart .line { fill:none; stroke:var(--accent); stroke-width:2; }
  .chart .dot { fill:var(--accent); } .chart .dot:hover, .chart .bar:hover { fill:var(--text); }
  .chart .bar { fill:#2f5d8f; }
  h2 .note { text-transform:none; letter-spacing:0; font-weight:400; }
  tr.link { cursor:pointer; } tr.link:hover { background:#1d2230; }
  td.task { white-space:normal; max-width:360px; } td.task .in, td.task .out { overflow:hidden; text-overflow:ellipsis; white-space:nowrap; max-width:360px; }
  td.task .out { color:var(--dim); }
  .mono { font-family:ui-monospace, SFMono-Regular, Menlo, monospace; font-size:12px; }
  .running { color:var(--accent); }
  .pager { display:flex; gap:8px; align-items:center; margin-top:8px; color:var(--dim); }
  .pager button { background:var(--panel); color:var(--text); border:1px solid var(--line); border-radius:6px; padding:3px 9px; }
  .facts { display:grid; grid-template-columns:repeat(2, auto); gap:2px 16px; justify-content:start; margin-bottom:8px; }
  .facts .k, .io .k { color:var(--dim); margin-right:8px; }
  .io { white-space:pre-wrap; margin-bottom:6px; font-family:system-ui, sans-serif; font-size:13px; }
  .action { color:var(--warn); } .hint { color:var(--accent); } .dim { color:var(--dim); }
  .tree { font-family:ui-monospace, SFMono-Regular, Menlo, monospace; font-size:12px; }
  .step { display:grid; grid-template-columns:minmax(260px, 38%) 1fr; gap:10px; align-items:center; padding:2px 0; }
  .step .name { overflow:hidden; text-overflow:ellipsis; white-space:nowrap; }
  .step .bar { position:relative; height:12px; background:#11141a; border-radius:2px; }
  .step .bar span { position:absolute; top:0; bottom:0; background:var(--accent); border-radius:2px; min-width:2px; }
  .step.error .bar span { background:var(--bad); } .step.recovery .bar span { background:var(--warn); } .step.running .bar span { background:#2f5d8f; }
  .step .meta { color:var(--dim); }
  .err { color:var(--bad); white-space:pre-wrap; }
  .rec { white-space:pre-wrap; font-family:system-ui, sans-serif; font-size:13px; margin-bottom:4px; } .rec .k { color:var(--dim); margin-right:8px; } .rec.bad span:last-child { color:var(--warn); }
  .empty { color:var(--dim); }
  .notice { background:#2a1d12; border:1px solid var(--warn); color:var(--warn); border-radius:8px; padding:10px 16px; }
  .scroll { max-height:520px; overflow:auto; }
  .runs-grid { display:grid; grid-template-columns:minmax(0, 1fr); gap:20px; }
</style>
</head>
<body>
<header><h1>agentwarden</h1><span class="src" id="src"></span><span class="src" id="updated"></span><span class="live" id="live" hidden>● live: tasks in progress appear as they run</span></header>
<main>
  <div id="notice" class="notice" data-testid="notice" hidden></div>
  <div class="controls" id="controls">
    <div class="group"><button data-range="1h">last hour</button><button data-range="24h">last day</button><button data-range="7d">last week</button><button data-range="all">all</button><button data-range="custom">custom</button></div>
    <div class="group" id="custom" hidden><input type="datetime-local" id="from" aria-label="from"><span>→</span><input type="datetime-local" id="to" aria-label="to"><button id="apply">apply</button></div>
    <label><select id="f-agent" aria-label="agent"></select></label>
    <label><select id="f-version" aria-label="version"></select></label>
    <label><select id="f-outcome" aria-label="outcome"></select></label>
    <label><select id="f-tool" aria-label="tool"></select></label>
    <label><select id="f-model" aria-label="model"></select></label>
    <label><select id="f-error" aria-label="error type"></select></label>
    <label><select id="f-trip" aria-label="trip kind"></select></label>
    <label><select id="f-guard" aria-label="guard"></select></label>
    <input type="search" id="q" placeholder="search: task input, answer, thread, run id, error" aria-label="search">
    <button id="clear">clear</button>
    <span class="scope" id="scope" data-testid="scope"></span>
  </div>
  <div class="tiles">
    <div class="tile" id="tile-asf"><div class="label">ASF · agent success fraction</div><div class="value" data-testid="asf">–</div><div class="sub"></div></div>
    <div class="tile" id="tile-err"><div class="label">ERR · error recovery rate</div><div class="value" data-testid="err">–</div><div class="sub"></div></div>
    <div class="tile" id="tile-cpcs"><div class="label">CPCS · cost per completed subtask</div><div class="value" data-testid="cpcs">–</div><div class="sub"></div></div>
    <div class="tile" id="tile-trips"><div class="label">breaker trips</div><div class="value" data-testid="trips">–</div><div class="sub"></div></div>
  </div>
  <section><h2>Trends <span class="note" id="bucket"></span></h2><div class="charts" id="charts"></div></section>
  <div class="runs-grid">
    <section><h2>Runs <span class="note" id="run-count" data-testid="run-count"></span></h2><div class="scroll"><table id="runs"></table></div>
      <div class="pager"><button id="prev">‹ newer</button><button id="next">older ›</button></div></section>
    <section><h2 id="run-title">Run</h2><div id="run" class="tree"><span class="empty">Select a run to see its steps.</span></div></section>
  </div>
  <div class="grid2">
    <section><h2>Error groups <span class="note">top error types by where and agent · click for a sample run</span></h2><div class="scroll"><table id="errors"></table></div></section>
    <section><h2>Trips <span class="note">the newest breaker trips</span></h2><div class="scroll"><table id="trips"></table></div></section>
  </div>
  <section><h2>Per agent</h2><table id="agents"></table></section>
  <div class="grid2">
    <section><h2>Per tool</h2><table id="tools"></table></section>
    <section id="versions-section" hidden><h2>Per version</h2><table id="versions"></table></section>
  </div>
  <section id="evals-section" hidden><h2>Evaluations</h2><table id="evals"></table></section>
  <section id="scores-section" hidden><h2>Online evaluation and feedback <span class="note" id="scores-note" data-testid="scores-note"></span></h2><table id="scores"></table></section>
  <section id="skipped-section" hidden><h2 id="skipped-title">Unreadable store lines</h2><div id="skipped"></div></section>
</main>
<script nonce="${nonce}">${CLIENT}</script>
</body>
</html>`;
}
