import { open } from "node:fs/promises";
import { STORE_CHUNK_BYTES, type StoreFrom, StoreLineReader, type StoreVisitor } from "./readStore.js";

export interface ScanOptions extends StoreFrom {
  /**
   * Awaited between chunks. Default: yield to the event loop (`setImmediate`), so a server reading
   * a large store still answers other requests meanwhile.
   */
  pause?: () => Promise<void>;
  /** Bytes read at a time. Default `STORE_CHUNK_BYTES` (1 MiB). */
  chunkBytes?: number;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Streams a run store from `offset` to its size when the scan starts: each line is parsed and
 * handed to `visit` as it is read, and nothing else is kept, so memory is bounded by the chunk size
 * and what the visitor keeps, not by the file. Line errors and the truncated last line are as in
 * `readStore`. Resolves to the offset and line count to continue from.
 */
export async function scanStore(
  path: string,
  visit: StoreVisitor,
  options: ScanOptions = {},
): Promise<{ offset: number; lines: number }> {
  const { pause = yieldToEventLoop, chunkBytes = STORE_CHUNK_BYTES } = options;
  const reader = new StoreLineReader(visit, options);
  const file = await open(path, "r");
  try {
    const stat = await file.stat();
    if (!stat.isFile()) throw new Error("not a file");
    const buffer = Buffer.allocUnsafe(chunkBytes);
    const start = options.offset ?? 0;
    let position = start;
    while (position < stat.size) {
      if (position > start) await pause();
      const { bytesRead } = await file.read(buffer, 0, Math.min(chunkBytes, stat.size - position), position);
      if (bytesRead === 0) break;
      reader.feed(buffer.subarray(0, bytesRead));
      position += bytesRead;
    }
  } finally {
    await file.close();
  }
  reader.end(options.final !== false);
  return { offset: reader.offset, lines: reader.lines };
}
