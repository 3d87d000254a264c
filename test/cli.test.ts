import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generatedTask } from "./support/stores.js";

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

  it("says a store is missing or not a file for report (exit 1) and compare (exit 2: could not compare)", () => {
    const missing = join(dir, "nope.jsonl");
    const r = cli("report", missing);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(`agentwarden: no run store at ${missing} (nothing written there yet?)\n`);
    const d = cli("report", dir);
    expect(d.code).toBe(1);
    expect(d.stderr).toBe(`agentwarden: the run store ${dir} is not a file\n`);
    const c = cli("compare", store, missing);
    expect(c.code).toBe(2);
    expect(c.stderr).toBe(
      `agentwarden: no run store at ${missing} (nothing written there yet?)\nrun agentwarden --help for usage\n`,
    );
  });

  it("serves the dashboard of a store not written yet, which the page says, then reads it once written", async () => {
    const later = join(dir, "later.jsonl");
    const child = spawn("npx", ["tsx", "src/cli/main.ts", "dashboard", later, "--port", "0"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (chunk: Buffer) => {
          out += chunk.toString("utf8");
          const m = /: (http:\/\/127\.0\.0\.1:\d+\/)\n/.exec(out);
          if (m) resolve(m[1] as string);
        });
        child.once("exit", (code) => reject(new Error(`the dashboard exited (${code}): ${out}`)));
      });
      const before = (await (await fetch(new URL("api/data", url))).json()) as {
        storeRuns: number;
        storeError?: string;
      };
      expect(before.storeRuns).toBe(0);
      expect(before.storeError).toBe(`no store at ${later} yet: waiting for the application to write it`);
      writeFileSync(later, `${JSON.stringify({ ...generatedTask(1), id: "first" })}\n`);
      const after = (await (await fetch(new URL("api/data", url))).json()) as {
        storeRuns: number;
        storeError?: string;
      };
      expect([after.storeRuns, after.storeError]).toEqual([1, undefined]);
    } finally {
      child.kill();
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
