import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/** Runs the CLI from source as a user runs the bin: its exit code, stdout and stderr. */
function cli(...args: string[]) {
  const r = spawnSync("npx", ["tsx", "src/cli/main.ts", ...args], { encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("the agentwarden CLI", () => {
  const dir = mkdtempSync(join(tmpdir(), "aw-cli-"));
  const store = join(dir, "runs.jsonl");
  writeFileSync(store, "");
  let busy: Server;
  let busyPort = 0;
  beforeAll(async () => {
    busy = createServer(() => undefined);
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    busyPort = (busy.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => busy.close(() => resolve())));

  it("prints its help to stdout and exits 0", () => {
    for (const flag of ["--help", "-h", "help"]) {
      const r = cli(flag);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe("");
      expect(r.stdout).toMatch(/^usage: agentwarden <command> \[options\]\n/);
      expect(r.stdout).toContain("report <store.jsonl> [--json]");
    }
  });

  it("names an unknown flag or command in one line, exit 2, no stack", () => {
    const flag = cli("report", store, "--colour");
    expect(flag.code).toBe(2);
    expect(flag.stderr).toBe("agentwarden: Unknown option '--colour'\nrun agentwarden --help for usage\n");
    const command = cli("serve", store);
    expect(command.code).toBe(2);
    expect(command.stderr).toBe('agentwarden: unknown command "serve"\nrun agentwarden --help for usage\n');
    const misplaced = cli("report", store, "--port", "80");
    expect(misplaced.code).toBe(2);
    expect(misplaced.stderr.split("\n")[0]).toBe("agentwarden: --port and --host belong to the dashboard command");
  });

  it("says a store is missing or not a file, for report and dashboard alike", () => {
    const missing = join(dir, "nope.jsonl");
    for (const command of ["report", "dashboard"]) {
      const r = cli(command, missing);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toBe(`agentwarden: no run store at ${missing} (nothing written there yet?)\n`);
      const d = cli(command, dir);
      expect(d.code).toBe(1);
      expect(d.stderr).toBe(`agentwarden: the run store ${dir} is not a file\n`);
    }
  });

  it("says a busy port is busy and exits instead of printing a stack", () => {
    const r = cli("dashboard", store, "--port", String(busyPort));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `agentwarden: port ${busyPort} on 127.0.0.1 is in use: choose another with --port (0 picks a free one)\n`,
    );
    const bad = cli("dashboard", store, "--port", "99999");
    expect(bad.code).toBe(2);
    expect(bad.stderr.split("\n")[0]).toBe('agentwarden: --port must be an integer from 0 to 65535, got "99999"');
  });

  it("reports an empty store as zero tasks", () => {
    const r = cli("report", store, "--json");
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.cumulative.totals.tasks).toBe(0);
    expect(report.cumulative.asf).toBeNull();
    expect(report.skippedLines).toEqual([]);
  });
});
