import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const repo = resolve(import.meta.dirname, "..");
const bin = join(repo, "node_modules", ".bin", "depcruise");
const config = join(repo, ".dependency-cruiser.cjs");

/** Runs the dependency checker with the project's rules in `cwd` over `src` and `adapters`. */
function cruise(cwd: string) {
  const r = spawnSync(bin, ["--config", config, "--output-type", "err", "src", "adapters"], {
    cwd,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** A tree of the given files (path → source) with a minimal tsconfig, in a fresh directory. */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "aw-layers-"));
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { module: "NodeNext" } }));
  for (const [path, source] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), source);
  }
  return dir;
}

describe("the layer rules", () => {
  it("hold on the source tree", () => {
    const r = cruise(repo);
    expect(r.out).toContain("no dependency violations found");
    expect(r.code).toBe(0);
  });

  it("fail naming the rule: the ledger importing the Warden, a cycle, adapters importing each other", () => {
    const dir = tree({
      "src/warden.ts": 'import { Run } from "./run/run.js";\nexport class Warden { run?: Run }\n',
      "src/run/run.ts": 'import type { Warden } from "../warden.js";\nexport class Run { warden?: Warden }\n',
      "src/policies/cap.ts": 'import { Hub } from "../hub.js";\nexport const hub = Hub;\n',
      "src/hub.ts": "export class Hub {}\n",
      "adapters/a/index.ts": 'export { b } from "../b/index.js";\n',
      "adapters/b/index.ts": "export const b = 1;\n",
    });
    const r = cruise(dir);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain("ledger-imports-nothing-above: src/run/run.ts → src/warden.ts");
    expect(r.out).toContain("no-circular: src/run/run.ts");
    expect(r.out).toContain("policies-know-the-ledger-only: src/policies/cap.ts → src/hub.ts");
    expect(r.out).toContain("adapters-not-to-each-other: adapters/a/index.ts → adapters/b/index.ts");
  });
});
