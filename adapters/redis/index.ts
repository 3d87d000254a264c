import { createClient } from "redis";
import { type RedisCommander, RedisStateStore, type RedisStateStoreOptions } from "./RedisStateStore.js";

export { type RedisCommander, RedisStateStore, type RedisStateStoreOptions } from "./RedisStateStore.js";

export interface ConnectRedisOptions extends RedisStateStoreOptions {
  /** Longest wait between reconnection attempts. Default 2000 ms. */
  maxReconnectDelayMs?: number;
}

/**
 * Connects to Redis (node-redis) and returns a store on it plus a `close()`. Commands fail at once
 * while the connection is down (no offline queue), so a decision never waits on a dead server past
 * `timeoutMs`; the client reconnects in the background (exponential backoff), without a restart.
 * Under failOpen it returns even when Redis is not up yet.
 */
export async function connectRedis(
  url: string,
  options: ConnectRedisOptions = {},
): Promise<{ store: RedisStateStore; close: () => Promise<void> }> {
  const timeoutMs = options.timeoutMs ?? 250;
  const maxDelay = options.maxReconnectDelayMs ?? 2000;
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: Math.max(timeoutMs, 1000),
      reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, maxDelay),
    },
  });
  // node-redis emits every connection error; without a listener Node would crash the process.
  client.on("error", () => {});
  const connecting = client.connect().catch(() => undefined);
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([connecting, new Promise((r) => (timer = setTimeout(r, Math.max(timeoutMs, 1000))))]);
  if (timer) clearTimeout(timer);
  const store = new RedisStateStore(client as unknown as RedisCommander, options);
  return {
    store,
    close: async () => {
      try {
        if (client.isOpen) await client.close();
        else client.destroy();
      } catch {
        client.destroy();
      }
    },
  };
}
