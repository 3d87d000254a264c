#!/usr/bin/env node
// The packed-package smoke test: what users install is what is tested.
//
// `npm pack` (which builds dist/ through `prepack`), then for each supported line — this machine's Node with
// OpenTelemetry 2.x, Node 22 and Node 24 with OpenTelemetry 3.x — an empty scratch project that installs the
// tarball and only the peers a user needs, where it runs: the README's "Use" example as plain JS ESM, the same
// file type-checked as TypeScript under moduleResolution nodenext and bundler, a CommonJS require, the CLI
// (--help, report and dashboard on the store the example wrote), then the other subpaths with their peers,
// and `npm ls` (no invalid or missing peer). The install must print no EBADENGINE and no peer warning.
//
//   node scripts/package-smoke.mjs            all lines
//   node scripts/package-smoke.mjs --only 22  one line (20, 22 or 24)
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const only = process.argv.includes("--only") ? process.argv[process.argv.indexOf("--only") + 1] : undefined;

/** Peers per OpenTelemetry line, pinned to the majors a user of that line installs. */
const OTEL = {
  2: {
    api: "@opentelemetry/api@~1.9.0",
    trace: ["@opentelemetry/sdk-trace@^2", "@opentelemetry/context-async-hooks@^2", "@opentelemetry/core@^2"],
    metrics: ["@opentelemetry/sdk-metrics@^2", "@opentelemetry/exporter-prometheus@>=0.200.0 <0.300.0"],
  },
  3: {
    api: "@opentelemetry/api@~1.10.0",
    trace: ["@opentelemetry/sdk-trace@^3", "@opentelemetry/context-async-hooks@^3", "@opentelemetry/core@^3"],
    metrics: ["@opentelemetry/sdk-metrics@^3", "@opentelemetry/exporter-prometheus@>=0.300.0 <0.400.0"],
  },
};
const LINES = [
  { node: "20", otel: 2, exec: [] }, // this machine's Node (the suite's line)
  { node: "22", otel: 3, exec: ["npm", "exec", "--yes", "--package=node@22", "--"] },
  { node: "24", otel: 3, exec: ["npm", "exec", "--yes", "--package=node@24", "--"] },
];

const log = (text) => process.stdout.write(`${text}\n`);
let failures = 0;

function fail(line, what) {
  failures++;
  log(`  ✗ ${what}`);
  if (line) log(line.replace(/^/gm, "      "));
}

/** Runs a command (under the line's Node when `exec` is set); returns {code, out} with stdout+stderr. */
function run(cwd, exec, cmd, args, { input, env } = {}) {
  const [bin, ...pre] = exec.length > 0 ? [...exec, cmd, ...args] : [cmd, ...args];
  try {
    const out = execFileSync(bin, pre, {
      cwd,
      input,
      encoding: "utf8",
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, npm_config_fund: "false", npm_config_audit: "false", ...env },
      timeout: 300_000,
    });
    return { code: 0, out };
  } catch (error) {
    return { code: error.status ?? 1, out: `${error.stdout ?? ""}${error.stderr ?? ""}${error.message}` };
  }
}

function useExample() {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const match = /<!-- use-example -->\s*```js\n([\s\S]*?)```/.exec(readme);
  if (!match) throw new Error("README.md has no ```js block after <!-- use-example -->");
  return match[1];
}

function pack() {
  const dest = mkdtempSync(join(tmpdir(), "aw-pack-"));
  const out = execFileSync("npm", ["pack", "--json", "--pack-destination", dest], {
    cwd: root,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const [info] = JSON.parse(out.slice(out.indexOf("[")));
  const files = info.files.map((f) => f.path).sort();
  log(
    `packed ${info.filename}: ${files.length} files, ${(info.size / 1024).toFixed(1)} kB (${(info.unpackedSize / 1024).toFixed(1)} kB unpacked)`,
  );
  const bad = files.filter((f) => !/^(dist\/(src|adapters)\/.+\.(js|d\.ts)|README\.md|LICENSE|package\.json)$/.test(f));
  if (bad.length > 0) fail(bad.join("\n"), "the tarball holds files users do not need");
  for (const need of ["LICENSE", "README.md", "dist/src/index.js", "dist/src/index.d.ts", "dist/src/cli/main.js"]) {
    if (!files.includes(need)) fail(undefined, `the tarball lacks ${need}`);
  }
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  for (const [path, entry] of Object.entries(pkg.exports)) {
    for (const target of typeof entry === "string" ? [entry] : Object.values(entry)) {
      if (!files.includes(target.replace(/^\.\//, "")))
        fail(undefined, `exports["${path}"] points at ${target}, not packed`);
    }
  }
  return join(dest, info.filename);
}

function installClean(line, cwd, what, args) {
  const r = run(cwd, line.exec, "npm", ["install", "--no-audit", "--no-fund", ...args]);
  if (r.code !== 0) return fail(r.out, `npm install (${what}) failed`);
  const warnings = r.out.split("\n").filter((l) => /EBADENGINE|peer|ERESOLVE|deprecated.*agentwarden/i.test(l));
  if (warnings.length > 0) fail(warnings.join("\n"), `npm install (${what}) warned`);
  else log(`  ✓ npm install (${what}): no engine or peer warning`);
}

async function dashboardCheck(line, cwd) {
  const [bin, ...args] = [...line.exec, "npx", "agentwarden", "dashboard", "runs.jsonl", "--port", "0"];
  // Its own process group, so that ending it ends npx's child (the server) too.
  const child = spawn(bin, args, { cwd, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let output = "";
  child.stderr.on("data", (d) => {
    output += d;
  });
  try {
    const url = await new Promise((resolveUrl, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL printed: ${output}`)), 60_000);
      child.stdout.on("data", (d) => {
        output += d;
        const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(output);
        if (m) {
          clearTimeout(timer);
          resolveUrl(m[1]);
        }
      });
      child.once("exit", (code) => reject(new Error(`exited ${code}: ${output}`)));
    });
    const page = await fetch(url);
    const data = await (await fetch(`${url}api/data`)).json();
    if (page.status === 200 && (await page.text()).includes("<html") && JSON.stringify(data).includes("weather")) {
      log(`  ✓ npx agentwarden dashboard serves the page and the store's run (${url})`);
    } else fail(JSON.stringify(data).slice(0, 400), "the dashboard does not show the example's run");
  } catch (error) {
    fail(String(error), "npx agentwarden dashboard");
  } finally {
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
}

async function smoke(line, tarball) {
  log(`\nNode ${line.node} · OpenTelemetry ${line.otel}.x`);
  const version = run(root, line.exec, "node", ["--version"]).out.trim();
  if (!version.startsWith(`v${line.node}.`) && line.exec.length > 0)
    return fail(version, `Node ${line.node} unavailable`);
  log(`  node ${version}`);
  const cwd = mkdtempSync(join(tmpdir(), `aw-smoke-node${line.node}-otel${line.otel}-`));
  writeFileSync(join(cwd, "package.json"), JSON.stringify({ name: "scratch", private: true, type: "module" }));
  const otel = OTEL[line.otel];
  // Only what the README's "Use" example imports.
  installClean(line, cwd, "the example's peers", [
    tarball,
    "@langchain/core",
    "@langchain/langgraph",
    "zod",
    otel.api,
    ...otel.trace,
  ]);

  writeFileSync(join(cwd, "use.mjs"), useExample());
  const example = run(cwd, line.exec, "node", ["use.mjs"]);
  const store = join(cwd, "runs.jsonl");
  const lines = existsSync(store) ? readFileSync(store, "utf8").trim().split("\n") : [];
  const task = lines[0] ? JSON.parse(lines[0]) : undefined;
  if (
    example.code === 0 &&
    example.out.includes("Lyon: 18°C and light rain.") &&
    lines.length === 1 &&
    task?.outcome === "success"
  ) {
    const spans = (example.out.match(/instrumentationScope:/g) ?? []).length;
    log(`  ✓ the README's Use example runs as JS ESM: the answer, ${spans} spans on the console, 1 task in runs.jsonl`);
  } else fail(example.out.slice(-3000), "the README's Use example (JS ESM)");

  installClean(line, cwd, "typescript", ["typescript@^5.9", "@types/node@^22"]);
  writeFileSync(join(cwd, "use.mts"), useExample());
  for (const [module, resolution] of [
    ["nodenext", "nodenext"],
    ["preserve", "bundler"],
  ]) {
    const tsc = run(cwd, line.exec, "npx", [
      "tsc",
      "--noEmit",
      "--strict",
      "--skipLibCheck",
      "--target",
      "es2022",
      "--module",
      module,
      "--moduleResolution",
      resolution,
      "--types",
      "node",
      "use.mts",
    ]);
    if (tsc.code === 0) log(`  ✓ the Use example type-checks as TypeScript (moduleResolution ${resolution})`);
    else fail(tsc.out, `tsc --moduleResolution ${resolution}`);
  }

  writeFileSync(
    join(cwd, "require.cjs"),
    `const { Warden } = require("agentwarden");
const { wrapGraph } = require("agentwarden/langgraph");
const warden = new Warden({ tracing: false });
if (typeof wrapGraph !== "function" || typeof warden.flush !== "function") throw new Error("bad exports");
warden.shutdown().then(() => console.log("cjs ok"));
`,
  );
  const cjs = run(cwd, line.exec, "node", ["require.cjs"]);
  if (cjs.code === 0 && cjs.out.includes("cjs ok"))
    log('  ✓ require("agentwarden") and require("agentwarden/langgraph") from CommonJS');
  else fail(cjs.out, "CommonJS require");

  const help = run(cwd, line.exec, "npx", ["agentwarden", "--help"]);
  if (help.code === 0 && help.out.startsWith("usage: agentwarden")) log("  ✓ npx agentwarden --help (exit 0, stdout)");
  else fail(help.out, "npx agentwarden --help");
  const report = run(cwd, line.exec, "npx", ["agentwarden", "report", "runs.jsonl"]);
  if (report.code === 0 && /tasks: 1 \(1 success/.test(report.out))
    log("  ✓ npx agentwarden report runs.jsonl: tasks: 1 (1 success, …)");
  else fail(report.out, "npx agentwarden report");
  await dashboardCheck(line, cwd);

  // The other subpaths, each with the peers the README's Install section names for it.
  installClean(line, cwd, "/prometheus, /mcp and /redis peers", [
    ...otel.metrics,
    "@modelcontextprotocol/sdk",
    "redis@^6",
  ]);
  writeFileSync(
    join(cwd, "subpaths.mjs"),
    `import { servePrometheus } from "agentwarden/prometheus";
import { instrumentMcp } from "agentwarden/mcp";
import { SpanQueue } from "agentwarden/otel";
import { RedisStateStore, connectRedis } from "agentwarden/redis";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace";
import { Warden } from "agentwarden";
const endpoint = await servePrometheus({ port: 0 });
const warden = new Warden({ meterProvider: endpoint.meterProvider });
const queue = new SpanQueue(new InMemorySpanExporter());
if (typeof instrumentMcp !== "function") throw new Error("no instrumentMcp");
if (typeof connectRedis !== "function" || typeof RedisStateStore !== "function") throw new Error("no agentwarden/redis");
await queue.shutdown();
await warden.shutdown();
await endpoint.close();
console.log("subpaths ok", endpoint.url);
`,
  );
  const subpaths = run(cwd, line.exec, "node", ["subpaths.mjs"]);
  if (subpaths.code === 0 && subpaths.out.includes("subpaths ok"))
    log("  ✓ agentwarden/prometheus, /mcp, /otel and /redis load and run with their peers");
  else fail(subpaths.out, "subpaths");

  const ls = run(cwd, line.exec, "npm", ["ls", "--all"]);
  // Optional peers of other packages that nobody installed are fine ("UNMET OPTIONAL"); nothing else is.
  const invalid = ls.out.split("\n").filter((l) => /invalid|missing|UNMET (?!OPTIONAL)|ERR!/i.test(l));
  if (ls.code === 0 && invalid.length === 0) log("  ✓ npm ls --all: no invalid or missing peer");
  else fail(invalid.join("\n") || ls.out.slice(-2000), "npm ls");
  if (failures === 0) rmSync(cwd, { recursive: true, force: true });
}

mkdirSync(tmpdir(), { recursive: true });
const tarball = pack();
for (const line of LINES) {
  if (only && line.node !== only) continue;
  await smoke(line, tarball);
}
rmSync(tarball, { force: true });
log(failures === 0 ? "\npackage smoke test: all passed" : `\npackage smoke test: ${failures} failed`);
process.exitCode = failures === 0 ? 0 : 1;
