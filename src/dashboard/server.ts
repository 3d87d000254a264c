import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { hostCheck } from "../http/hostCheck.js";
import { StoreFollower } from "./data.js";
import type { LiveFeed } from "./live.js";
import { page } from "./page.js";
import { parseQuery } from "./query.js";

export interface DashboardOptions {
  /** Port to listen on; 0 picks a free one. Default 5317 (`DEFAULT_DASHBOARD_PORT`). */
  port?: number;
  /** Address to bind. Default `127.0.0.1`: reachable from this machine only. */
  host?: string;
  /**
   * Names the dashboard may be addressed by besides `localhost`, `127.0.0.1`, `[::1]` and the bound
   * address (and, bound to all interfaces, any IP address). Other `Host`s are refused (403), which
   * stops DNS rebinding. Default none.
   */
  allowedHosts?: string[];
  /**
   * Tasks in progress in this process (the Warden's `dashboard` option sets it): the page shows
   * them and their steps as they run, over server-sent events at `/api/live`. Default none.
   */
  live?: LiveFeed;
}

export const DEFAULT_DASHBOARD_PORT = 5317;

export interface Dashboard {
  url: string;
  close(): Promise<void>;
}

const SECURITY = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

/** Live event streams served at once; more are answered 503. */
export const MAX_LIVE_STREAMS = 32;
/** Bytes of live events a stream may leave unsent (a client not reading) before it is cut off. */
export const MAX_LIVE_BUFFER = 1 << 20;

/**
 * Serves the local dashboard for a run store (a path, or a `StoreFollower` of one): the page,
 * `/api/data?from&to&agent&version&outcome&tool&model&error&trip&guard&q&page` (the figures of
 * the runs selected and a page of them), `/api/runs/:id` (one run's summary, with its online
 * evaluation results and user feedback as `evalRecords`) and, with `live`,
 * `/api/live` (tasks in progress, as server-sent events). It reads the store
 * as the application appends to it, streaming, without blocking the page meanwhile. Only requests
 * addressed to the bound address are answered (see `allowedHosts`).
 */
export async function serveDashboard(
  store: string | StoreFollower,
  options: DashboardOptions = {},
): Promise<Dashboard> {
  const host = options.host ?? "127.0.0.1";
  const port = options.port ?? DEFAULT_DASHBOARD_PORT;
  const follower = typeof store === "string" ? new StoreFollower(store) : store;
  const live = options.live;
  const streams = new Set<ServerResponse>();
  let check: ReturnType<typeof hostCheck> | undefined;
  const server: Server = createServer((req, res) => {
    void handle(req, res);
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? "/", "http://localhost");
      const api = url.pathname.startsWith("/api/");
      const refused = check ? check(req, api) : "not listening";
      if (refused) {
        res.writeHead(403, { ...SECURITY, "content-type": "text/plain" }).end(`agentwarden: ${refused}\n`);
        return;
      }
      if (req.method !== "GET") {
        res.writeHead(405, SECURITY).end();
        return;
      }
      if (url.pathname === "/") {
        const nonce = randomBytes(16).toString("base64");
        res.writeHead(200, {
          ...SECURITY,
          "content-type": "text/html; charset=utf-8",
          "content-security-policy": `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
        });
        res.end(page(nonce));
        return;
      }
      if (url.pathname === "/api/data") {
        const data = await follower.data(parseQuery(url.searchParams));
        const body = JSON.stringify({ ...data, live: live !== undefined });
        res.writeHead(200, { ...SECURITY, "content-type": "application/json" }).end(body);
        return;
      }
      if (url.pathname === "/api/live" && live) {
        if (streams.size >= MAX_LIVE_STREAMS) {
          res.writeHead(503, { ...SECURITY, "content-type": "text/plain" }).end("agentwarden: too many live streams\n");
          return;
        }
        res.writeHead(200, { ...SECURITY, "content-type": "text/event-stream", connection: "keep-alive" });
        let off = () => {};
        const drop = () => {
          off();
          streams.delete(res);
        };
        // A client that does not read would have every later event buffered for it in this (the
        // agent's) process: past MAX_LIVE_BUFFER unsent bytes (beyond the `hello`, which a reading
        // client takes a moment to receive when many tasks are in progress) it is cut off. A page's
        // EventSource reconnects and starts again from a fresh `hello`.
        let allowed = MAX_LIVE_BUFFER;
        const send = (event: unknown) => {
          if (res.writableLength > allowed) {
            drop();
            res.destroy();
            return;
          }
          res.write(`data: ${JSON.stringify(event)}\n\n`);
        };
        const hello = `data: ${JSON.stringify({ type: "hello", runs: live.runs() })}\n\n`;
        allowed += Buffer.byteLength(hello);
        res.write(hello);
        off = live.onEvent(send);
        streams.add(res);
        req.on("close", drop);
        return;
      }
      const run = /^\/api\/runs\/([^/]+)$/.exec(url.pathname);
      if (run) {
        const summary = await follower.runView(decodeURIComponent(run[1] as string));
        if (!summary) res.writeHead(404, SECURITY).end();
        else res.writeHead(200, { ...SECURITY, "content-type": "application/json" }).end(JSON.stringify(summary));
        return;
      }
      res.writeHead(404, SECURITY).end();
    } catch (error) {
      // Answer once, whatever failed (reading the store, a bad path): the server keeps serving.
      if (res.headersSent) {
        res.destroy();
        return;
      }
      res
        .writeHead(500, { ...SECURITY, "content-type": "application/json" })
        .end(JSON.stringify({ error: (error as Error).message }));
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  check = hostCheck({ host, port: address.port, allowedHosts: options.allowedHosts });
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${address.port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of streams) res.end();
        server.close(() => resolve());
        // A connection mid-request (a client that sent half its headers, a stream just aborted) would
        // hold close() until its timeout: this server only reads, so nothing is lost by cutting it.
        server.closeAllConnections();
      }),
  };
}
