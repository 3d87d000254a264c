#!/usr/bin/env node
import { readStore } from "../store/readStore.js";
import { aggregate, formatReport } from "./report.js";

const USAGE = `usage: agentwarden report <store.jsonl> [--json]`;

export function main(argv: string[]): number {
  const [command, ...rest] = argv;
  const json = rest.includes("--json");
  const args = rest.filter((a) => !a.startsWith("--"));
  if (command === "report") {
    const path = args[0];
    if (!path) {
      console.error(USAGE);
      return 2;
    }
    let read: ReturnType<typeof readStore>;
    try {
      read = readStore(path);
    } catch (error) {
      console.error(`agentwarden: cannot read store ${path}: ${(error as Error).message}`);
      return 1;
    }
    for (const e of read.errors) console.error(`agentwarden: ${path}:${e.line}: ${e.message}`);
    const snapshot = aggregate(read.summaries);
    if (json) console.log(JSON.stringify({ ...snapshot, skippedLines: read.errors }));
    else console.log(formatReport(snapshot, read.errors));
    return 0;
  }
  console.error(USAGE);
  return 2;
}

process.exitCode = main(process.argv.slice(2));
