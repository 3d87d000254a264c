#!/usr/bin/env node
import { DEFAULT_DASHBOARD_PORT, serveDashboard } from "../dashboard/server.js";
import { formatReport, reportStore, type StoreReport } from "./report.js";

const USAGE = `usage: agentwarden report <store.jsonl> [--json]\n       agentwarden dashboard <store.jsonl> [--port N] [--host 127.0.0.1]`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const json = rest.includes("--json");
  const flag = (name: string) => {
    const i = rest.indexOf(`--${name}`);
    return i >= 0 ? rest[i + 1] : undefined;
  };
  const args = rest.filter((a, i) => !a.startsWith("--") && !["--port", "--host"].includes(rest[i - 1] ?? ""));
  if (command === "dashboard") {
    const path = args[0];
    if (!path) {
      console.error(USAGE);
      return 2;
    }
    const port = Number(flag("port") ?? DEFAULT_DASHBOARD_PORT);
    const dashboard = await serveDashboard(path, { port, host: flag("host") ?? "127.0.0.1" });
    console.log(`agentwarden dashboard for ${path}: ${dashboard.url}`);
    await new Promise(() => undefined); // serve until interrupted
  }
  if (command === "report") {
    const path = args[0];
    if (!path) {
      console.error(USAGE);
      return 2;
    }
    let read: StoreReport;
    try {
      read = await reportStore(path, (e) => console.error(`agentwarden: ${path}:${e.line}: ${e.message}`));
    } catch (error) {
      console.error(`agentwarden: cannot read store ${path}: ${(error as Error).message}`);
      return 1;
    }
    const { snapshot, skipped, skippedCount } = read;
    if (json) console.log(JSON.stringify({ ...snapshot, skippedLines: skipped, skippedLineCount: skippedCount }));
    else console.log(formatReport(snapshot, skipped, skippedCount));
    return 0;
  }
  console.error(USAGE);
  return 2;
}

process.exitCode = await main(process.argv.slice(2));
