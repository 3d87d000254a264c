#!/usr/bin/env node
import { readFileSync, statSync } from "node:fs";
import { parseArgs } from "node:util";
import { DEFAULT_DASHBOARD_PORT, serveDashboard } from "../dashboard/server.js";
import { compareStores, formatComparison, thresholdsFrom } from "./compare.js";
import { printable } from "./printable.js";
import { formatReport, reportStore, type StoreReport } from "./report.js";

const USAGE = `usage: agentwarden <command> [options]

commands:
  report <store.jsonl> [--json]          ASF, ERR, CPCS, the per-agent and per-tool tables and the evaluations of a run store
  dashboard <store.jsonl> [--port N] [--host H]
                                         serve the local dashboard for a run store (default 127.0.0.1:${DEFAULT_DASHBOARD_PORT})
  compare <baseline.jsonl> <candidate.jsonl> [--max-drop asf=0.02,err=0.05] [--max-rise cpcs=10%]
          [--baseline-version V] [--candidate-version V] [--json]
                                         the figures side by side; exits 1 when one regresses beyond its
                                         threshold by more than the noise of the sample sizes, 2 when
                                         it cannot compare (a usage error, a store it cannot read,
                                         an unknown version or metric)

options:
  -h, --help                             print this help
  -v, --version                          print the version

A run store is the JSON Lines file a Warden writes with new Warden({ store: "runs.jsonl" }).`;

/** A mistake in how the CLI was called or what it was pointed at: one line on stderr, no stack. */
class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export async function main(argv: string[]): Promise<number> {
  // Everything printed passes `printable`: names and errors come from agents and MCP servers.
  const out = (text: string) => process.stdout.write(`${printable(text)}\n`);
  const err = (text: string) => process.stderr.write(`${printable(text)}\n`);
  try {
    const { values, positionals } = parse(argv);
    if (values.help) {
      out(USAGE);
      return 0;
    }
    if (values.version) {
      out(version());
      return 0;
    }
    const [command, ...args] = positionals;
    if (command === "help") {
      out(USAGE);
      return 0;
    }
    if (command === "compare") return await compare(args, values, out, err);
    if (command !== "report" && command !== "dashboard") {
      throw new CliError(
        command === undefined ? "missing command (report or dashboard)" : `unknown command "${command}"`,
        2,
      );
    }
    if (args.length !== 1) throw new CliError(`${command} takes one store path, got ${args.length}`, 2);
    for (const flag of ["max-drop", "max-rise", "baseline-version", "candidate-version"] as const) {
      if (values[flag] !== undefined) throw new CliError(`--${flag} belongs to the compare command`, 2);
    }
    if (command === "report" && (values.port !== undefined || values.host !== undefined)) {
      throw new CliError("--port and --host belong to the dashboard command", 2);
    }
    if (command === "dashboard" && values.json) throw new CliError("--json belongs to the report command", 2);
    // The dashboard serves a store not written yet (the page says so, then picks it up) and says
    // on the page why a path it cannot read is unreadable; the report needs the file now.
    const path = command === "report" ? checkStore(args[0] as string) : (args[0] as string);
    if (command === "report") {
      const read: StoreReport = await reportStore(path, (e) => err(`agentwarden: ${path}:${e.line}: ${e.message}`));
      const { snapshot, skipped, skippedCount } = read;
      out(
        values.json
          ? JSON.stringify({ ...snapshot, skippedLines: skipped, skippedLineCount: skippedCount })
          : formatReport(snapshot, skipped, skippedCount),
      );
      return 0;
    }
    const port = values.port === undefined ? DEFAULT_DASHBOARD_PORT : Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new CliError(`--port must be an integer from 0 to 65535, got "${values.port}"`, 2);
    }
    const host = values.host ?? "127.0.0.1";
    const dashboard = await serveDashboard(path, { port, host }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE") {
        throw new CliError(`port ${port} on ${host} is in use: choose another with --port (0 picks a free one)`);
      }
      if (error.code === "EADDRNOTAVAIL" || error.code === "ENOTFOUND") {
        throw new CliError(`cannot listen on ${host}: no such local address`);
      }
      if (error.code === "EACCES") throw new CliError(`not allowed to listen on ${host}:${port}`);
      throw error;
    });
    out(`agentwarden dashboard for ${path}: ${dashboard.url}`);
    await new Promise(() => undefined); // serve until interrupted
    return 0;
  } catch (error) {
    if (error instanceof CliError) {
      err(`agentwarden: ${error.message}`);
      if (error.exitCode === 2) err("run agentwarden --help for usage");
      return error.exitCode;
    }
    err(`agentwarden: ${(error as Error)?.message ?? String(error)}`);
    return 1;
  }
}

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "v" },
        json: { type: "boolean" },
        port: { type: "string" },
        host: { type: "string" },
        // Given more than once, the thresholds add up (`--max-drop asf=0.1 --max-drop err=0.2`).
        "max-drop": { type: "string", multiple: true },
        "max-rise": { type: "string", multiple: true },
        "baseline-version": { type: "string" },
        "candidate-version": { type: "string" },
      },
    });
  } catch (error) {
    // parseArgs names the flag ("Unknown option '--x'"); keep its words, drop its advice about "--".
    throw new CliError((error as Error).message.split(". ")[0] as string, 2);
  }
}

/** `agentwarden compare`: 0 when nothing regressed beyond its threshold, 1 when something did. */
async function compare(
  args: string[],
  values: ReturnType<typeof parse>["values"],
  out: (text: string) => void,
  err: (text: string) => void,
): Promise<number> {
  if (args.length !== 2)
    throw new CliError(`compare takes a baseline and a candidate store, got ${args.length} path(s)`, 2);
  if (values.port !== undefined || values.host !== undefined)
    throw new CliError("--port and --host belong to the dashboard command", 2);
  let thresholds: ReturnType<typeof thresholdsFrom>;
  try {
    thresholds = thresholdsFrom(values["max-drop"]?.join(","), values["max-rise"]?.join(","));
  } catch (error) {
    throw new CliError((error as Error).message, 2);
  }
  // A store that cannot be read or a version it does not have is not a regression: exit 2, so a CI
  // gate can tell "could not compare" from "regressed" (1).
  const [baseline, candidate] = args.map((a) => checkStore(a, 2)) as [string, string];
  let comparison: Awaited<ReturnType<typeof compareStores>>;
  try {
    comparison = await compareStores(
      baseline,
      candidate,
      {
        ...thresholds,
        ...(values["baseline-version"] !== undefined ? { baselineVersion: values["baseline-version"] } : {}),
        ...(values["candidate-version"] !== undefined ? { candidateVersion: values["candidate-version"] } : {}),
      },
      (path, line, message) => err(`agentwarden: ${path}:${line}: ${message}`),
    );
  } catch (error) {
    // An unknown version, or a store that cannot be opened or read after all (EACCES, EIO): could
    // not compare, not a regression.
    const code = (error as NodeJS.ErrnoException)?.code;
    if (error instanceof RangeError || typeof code === "string") throw new CliError((error as Error).message, 2);
    throw error;
  }
  out(values.json ? JSON.stringify(comparison) : formatComparison(comparison));
  return comparison.regressed ? 1 : 0;
}

/** The store must be a readable file: say so in one line instead of an empty page or a raw ENOENT. */
function checkStore(path: string, exitCode = 1): string {
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new CliError(`no run store at ${path} (nothing written there yet?)`, exitCode);
    if (code === "EACCES") throw new CliError(`cannot read the run store ${path}: permission denied`, exitCode);
    throw new CliError(`cannot read the run store ${path}: ${(error as Error).message}`, exitCode);
  }
  if (!stat.isFile()) throw new CliError(`the run store ${path} is not a file`, exitCode);
  return path;
}

function version(): string {
  for (const up of ["../../package.json", "../../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "agentwarden") return pkg.version ?? "unknown";
    } catch {
      // not there: the other layout (source or dist)
    }
  }
  return "unknown";
}

process.exitCode = await main(process.argv.slice(2));
