import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import type { Run } from "../run/run.js";
import type { Subscriber } from "../subscriber.js";

/**
 * The local run store: one JSON line per finished task (its summary), appended with a single
 * synchronous write, so a line is either whole or, if the process dies mid-write, a truncated last
 * line that the reader reports and skips. Append-only; several processes may share one file.
 */
export class FileStore implements Subscriber {
  readonly name = "store";
  private fd: number | undefined;

  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, "a");
  }

  onTaskEnd(run: Run): void {
    if (this.fd === undefined) return;
    const line = Buffer.from(`${JSON.stringify(run.summary())}\n`);
    let written = 0;
    while (written < line.length) written += writeSync(this.fd, line, written, line.length - written);
  }

  async shutdown(): Promise<void> {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}
