import { closeSync, fstatSync, mkdirSync, openSync, readSync, statSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import type { Run } from "../run/run.js";
import type { Subscriber } from "../subscriber.js";

const NEWLINE = 10;

/**
 * The local run store: one JSON line per finished task (its summary), appended with a single
 * synchronous write, so a line is either whole or, if the process dies mid-write, a truncated last
 * line that the reader reports and skips. A line never starts after such a fragment: a writer that
 * opens a file not ending in a newline, or whose own write failed part-way (a full disk), starts its
 * next line on a fresh line. Append-only; several processes may share one file.
 */
export class FileStore implements Subscriber {
  readonly name = "store";
  private fd: number | undefined;
  /** True when the file may end in a fragment: the next line is written after a newline. */
  private fragment: boolean;

  constructor(readonly path: string) {
    makeDirs(dirname(path));
    const fd = openSync(path, "a+");
    try {
      this.fragment = !endsWithNewline(fd);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    this.fd = fd;
  }

  onTaskEnd(run: Run): void {
    this.append(run.summary());
  }

  /** Appends one line (a summary, or an evaluation record written after its task's line). */
  append(value: object): void {
    if (this.fd === undefined) return;
    const json = `${JSON.stringify(value)}\n`;
    const line = Buffer.from(this.fragment ? `\n${json}` : json);
    // Until the whole line is down, the file may end in a fragment of it.
    this.fragment = true;
    let written = 0;
    while (written < line.length) written += writeSync(this.fd, line, written, line.length - written);
    this.fragment = false;
  }

  async shutdown(): Promise<void> {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}

/** True when the file is empty or its last byte is a newline. */
function endsWithNewline(fd: number): boolean {
  const size = fstatSync(fd).size;
  if (size === 0) return true;
  const last = Buffer.alloc(1);
  return readSync(fd, last, 0, 1, size - 1) === 1 && last[0] === NEWLINE;
}

/**
 * `mkdir -p`, one level at a time from the nearest directory that exists. Node's own
 * `mkdirSync(dir, { recursive: true })` never returns for a path under `/proc` (it loops on the
 * error the kernel gives); made level by level, that error is thrown.
 */
function makeDirs(dir: string): void {
  const missing: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    let code: string | undefined;
    try {
      if (statSync(d).isDirectory()) break;
      code = "EXIST";
    } catch (error) {
      code = (error as NodeJS.ErrnoException).code;
    }
    if (code !== "ENOENT") {
      // Not a directory, or not reachable: mkdir says why (EEXIST, ENOTDIR, EACCES), as `mkdir -p` would.
      mkdirSync(d);
      break;
    }
    missing.push(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
}
