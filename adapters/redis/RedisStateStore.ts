import { createHash } from "node:crypto";
import { MemoryStateStore } from "../../src/state/MemoryStateStore.js";
import {
  type Reserved,
  type ReserveLine,
  type StateStore,
  StateUnavailableError,
  type Taken,
} from "../../src/state/StateStore.js";

/** The one method the store needs from a Redis client: node-redis's `sendCommand`. */
export interface RedisCommander {
  sendCommand(args: string[]): Promise<unknown>;
}

export interface RedisStateStoreOptions {
  /** Prefix of every key. Default `agentwarden:`. In a Redis Cluster use a hash tag (`{aw}:`). */
  prefix?: string;
  /**
   * When Redis cannot be reached (or answers later than `timeoutMs`): `failOpen` (default) goes on
   * with this process's local limits, counting each fallback; `failClosed` refuses the decision
   * with a `StateUnavailableError`.
   */
  onUnavailable?: "failOpen" | "failClosed";
  /** The longest a decision waits for Redis. Default 250 ms. */
  timeoutMs?: number;
  /** Called on each fallback to local state (failOpen) or refusal (failClosed). */
  onFallback?: (operation: string, error: unknown) => void;
}

// Time is the Redis server's (TIME): workers' clocks may disagree, the store's does not.
const PRELUDE = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function wsum(key, window, now)
  local width = window / 60
  local oldest = now - window
  local flat = redis.call('HGETALL', key)
  local sum = 0
  for i = 1, #flat, 2 do
    local idx = tonumber(flat[i])
    if (idx + 1) * width > oldest then sum = sum + tonumber(flat[i + 1])
    elseif idx * width < oldest - width then redis.call('HDEL', key, flat[i]) end
  end
  return sum
end
local function wadd(key, amount, window, now)
  local width = window / 60
  redis.call('HINCRBYFLOAT', key, tostring(math.floor(now / width)), amount)
  redis.call('PEXPIRE', key, math.ceil(window + width))
end
local function rsum(zkey, hkey, now)
  local expired = redis.call('ZRANGEBYSCORE', zkey, '-inf', now)
  for _, id in ipairs(expired) do redis.call('HDEL', hkey, id) end
  redis.call('ZREMRANGEBYSCORE', zkey, '-inf', now)
  local live = redis.call('ZRANGE', zkey, 0, -1)
  local sum = 0
  if #live > 0 then
    local amounts = redis.call('HMGET', hkey, unpack(live))
    for _, a in ipairs(amounts) do if a then sum = sum + tonumber(a) end end
  end
  return sum
end
`;

const SCRIPTS = {
  addToWindow: `${PRELUDE} wadd(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), now_ms()) return 1`,
  windowSum: `${PRELUDE} return tostring(wsum(KEYS[1], tonumber(ARGV[1]), now_ms()))`,
  // KEYS: per line (window, reservation zset, reservation amounts). ARGV: id, amount, ttl, per line (limit, window).
  reserve: `${PRELUDE}
local id, amount, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local now = now_ms()
local n = #KEYS / 3
for i = 1, n do
  local limit, window = tonumber(ARGV[2 + i * 2]), tonumber(ARGV[3 + i * 2])
  local spent = wsum(KEYS[i * 3 - 2], window, now)
  local reserved = rsum(KEYS[i * 3 - 1], KEYS[i * 3], now)
  if spent + reserved + amount > limit then return {0, i - 1, tostring(spent), tostring(reserved)} end
end
for i = 1, n do
  local window = tonumber(ARGV[3 + i * 2])
  redis.call('ZADD', KEYS[i * 3 - 1], now + ttl, id)
  redis.call('HSET', KEYS[i * 3], id, ARGV[2])
  local keep = math.ceil(math.max(ttl, window))
  redis.call('PEXPIRE', KEYS[i * 3 - 1], keep)
  redis.call('PEXPIRE', KEYS[i * 3], keep)
end
return {1}`,
  // KEYS as reserve. ARGV: id, actual, per line (window).
  settle: `${PRELUDE}
local id, actual = ARGV[1], tonumber(ARGV[2])
local now = now_ms()
for i = 1, #KEYS / 3 do
  redis.call('ZREM', KEYS[i * 3 - 1], id)
  redis.call('HDEL', KEYS[i * 3], id)
  if actual > 0 then wadd(KEYS[i * 3 - 2], actual, tonumber(ARGV[2 + i]), now) end
end
return 1`,
  // GCRA: a theoretical arrival time per key. ARGV: cost, limit, period.
  take: `${PRELUDE}
local cost, limit, period = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local now = now_ms()
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
tat = tat + cost * period / limit
local over = tat - now - period
if over > 0 then return {0, tostring(over), now} end
redis.call('SET', KEYS[1], tostring(tat), 'PX', math.ceil(tat - now) + 1)
return {1, '0', now}`,
  acquire: `local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`,
  release: `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end return 1`,
} as const;

type ScriptName = keyof typeof SCRIPTS;
const SHAS = Object.fromEntries(
  Object.entries(SCRIPTS).map(([name, body]) => [name, createHash("sha1").update(body).digest("hex")]),
) as Record<ScriptName, string>;

/**
 * A StateStore in Redis, shared by every worker that points at the same server: rolling windows,
 * reservations, rate limits (GCRA) and locks, each decision one Lua script (atomic, across all the
 * keys it touches). When Redis is unreachable it falls back to local state (`failOpen`) or refuses
 * (`failClosed`), never waiting longer than `timeoutMs`.
 */
export class RedisStateStore implements StateStore {
  /** Decisions answered from local state because Redis was unreachable (failOpen), or refused (failClosed). */
  fallbacks = 0;
  readonly prefix: string;
  readonly onUnavailable: "failOpen" | "failClosed";
  readonly timeoutMs: number;
  /** This process's state, used while Redis is unreachable under failOpen. */
  readonly local = new MemoryStateStore();
  private readonly onFallback: ((operation: string, error: unknown) => void) | undefined;

  constructor(
    readonly client: RedisCommander,
    options: RedisStateStoreOptions = {},
  ) {
    this.prefix = options.prefix ?? "agentwarden:";
    this.onUnavailable = options.onUnavailable ?? "failOpen";
    this.timeoutMs = options.timeoutMs ?? 250;
    this.onFallback = options.onFallback;
  }

  private async script(name: ScriptName, keys: string[], args: Array<string | number>): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args.map(String)];
    try {
      return await this.client.sendCommand(["EVALSHA", SHAS[name], ...tail]);
    } catch (error) {
      if (!String((error as Error)?.message).startsWith("NOSCRIPT")) throw error;
      return this.client.sendCommand(["EVAL", SCRIPTS[name], ...tail]);
    }
  }

  /** Runs `remote` within the timeout; when Redis fails, falls back to `local` or refuses. */
  private async guarded<T>(operation: string, remote: () => Promise<T>, local: () => T): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      return await Promise.race([
        remote(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
        }),
      ]);
    } catch (error) {
      this.fallbacks++;
      try {
        this.onFallback?.(operation, error);
      } catch {
        // a listener's failure is not the decision's
      }
      if (this.onUnavailable === "failClosed") {
        throw new StateUnavailableError(operation, (error as Error)?.message ?? String(error), { cause: error });
      }
      return local();
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  private lineKeys(lines: readonly ReserveLine[]): string[] {
    const p = this.prefix;
    return lines.flatMap((l) => [`${p}w:${l.key}`, `${p}rz:${l.key}`, `${p}ra:${l.key}`]);
  }

  addToWindow(key: string, amount: number, now: number, windowMs: number): Promise<void> {
    return this.guarded(
      "addToWindow",
      async () => {
        await this.script("addToWindow", [`${this.prefix}w:${key}`], [amount, windowMs]);
      },
      () => this.local.addToWindow(key, amount, now, windowMs),
    );
  }

  windowSum(key: string, windowMs: number, now: number): Promise<number> {
    return this.guarded(
      "windowSum",
      async () => Number(await this.script("windowSum", [`${this.prefix}w:${key}`], [windowMs])),
      () => this.local.windowSum(key, windowMs, now),
    );
  }

  get(key: string, now: number): Promise<string | undefined> {
    return this.guarded(
      "get",
      async () => ((await this.client.sendCommand(["GET", `${this.prefix}v:${key}`])) as string | null) ?? undefined,
      () => this.local.get(key, now),
    );
  }

  set(key: string, value: string, now: number, ttlMs: number): Promise<void> {
    return this.guarded(
      "set",
      async () => {
        await this.client.sendCommand([
          "SET",
          `${this.prefix}v:${key}`,
          value,
          "PX",
          String(Math.max(1, Math.ceil(ttlMs))),
        ]);
      },
      () => this.local.set(key, value, now, ttlMs),
    );
  }

  delete(key: string): Promise<void> {
    return this.guarded(
      "delete",
      async () => {
        await this.client.sendCommand(["DEL", `${this.prefix}v:${key}`, `${this.prefix}w:${key}`]);
      },
      () => this.local.delete(key),
    );
  }

  acquire(key: string, owner: string, now: number, ttlMs: number): Promise<boolean> {
    return this.guarded(
      "acquire",
      async () =>
        Number(await this.script("acquire", [`${this.prefix}l:${key}`], [owner, Math.max(1, Math.ceil(ttlMs))])) === 1,
      () => this.local.acquire(key, owner, now, ttlMs),
    );
  }

  release(key: string, owner: string): Promise<void> {
    return this.guarded(
      "release",
      async () => {
        await this.script("release", [`${this.prefix}l:${key}`], [owner]);
      },
      () => this.local.release(key, owner),
    );
  }

  reserve(id: string, lines: readonly ReserveLine[], amount: number, now: number, ttlMs: number): Promise<Reserved> {
    return this.guarded(
      "reserve",
      async () => {
        const args: Array<string | number> = [id, amount, Math.max(1, Math.ceil(ttlMs))];
        for (const l of lines) args.push(l.limit, l.windowMs);
        const r = (await this.script("reserve", this.lineKeys(lines), args)) as Array<string | number>;
        if (Number(r[0]) === 1) return { ok: true } as Reserved;
        return { ok: false, index: Number(r[1]), spent: Number(r[2]), reserved: Number(r[3]) } as Reserved;
      },
      () => ({ ...this.local.reserve(id, lines, amount, now, ttlMs), local: true }),
    );
  }

  settle(id: string, lines: readonly ReserveLine[], actual: number, now: number): Promise<void> {
    return this.guarded(
      "settle",
      async () => {
        await this.script("settle", this.lineKeys(lines), [id, actual, ...lines.map((l) => l.windowMs)]);
      },
      () => this.local.settle(id, lines, actual, now),
    );
  }

  take(key: string, cost: number, limit: number, periodMs: number, now: number): Promise<Taken> {
    return this.guarded(
      "take",
      async () => {
        const r = (await this.script("take", [`${this.prefix}g:${key}`], [cost, limit, periodMs])) as Array<
          string | number
        >;
        return { ok: Number(r[0]) === 1, retryAfterMs: Number(r[1]), at: Number(r[2]) };
      },
      () => ({ ...this.local.take(key, cost, limit, periodMs, now), local: true }),
    );
  }
}
