import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { StoreFollower } from "./data.js";
import { page } from "./page.js";

export interface DashboardOptions {
  /** Port to listen on; 0 picks a free one. Default 5317 (`DEFAULT_DASHBOARD_PORT`). */
  port?: number;
  /** Address to bind. Default `127.0.0.1`: reachable from this machine only. */
  host?: string;
}

export const DEFAULT_DASHBOARD_PORT = 5317;

export interface Dashboard {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves the local dashboard for a run store: the page, `/api/data` (aggregates, trends, runs) and
 * `/api/runs/:id` (one run's steps). It reads the store as the application appends to it.
 */
export async function serveDashboard(store: string, options: DashboardOptions = {}): Promise<Dashboard> {
  const host = options.host ?? "127.0.0.1";
  const port = options.port ?? DEFAULT_DASHBOARD_PORT;
  const follower = new StoreFollower(store);
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const security = {
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
      "cache-control": "no-store",
    };
    try {
      if (req.method !== "GET") {
        res.writeHead(405, security).end();
        return;
      }
      if (url.pathname === "/") {
        const nonce = randomBytes(16).toString("base64");
        res.writeHead(200, {
          ...security,
          "content-type": "text/html; charset=utf-8",
          "content-security-policy": `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
        });
        res.end(page(nonce));
        return;
      }
      if (url.pathname === "/api/data") {
        res.writeHead(200, { ...security, "content-type": "application/json" }).end(JSON.stringify(follower.data()));
        return;
      }
      const run = /^\/api\/runs\/([^/]+)$/.exec(url.pathname);
      if (run) {
        const summary = follower.run(decodeURIComponent(run[1] as string));
        if (!summary) res.writeHead(404, security).end();
        else res.writeHead(200, { ...security, "content-type": "application/json" }).end(JSON.stringify(summary));
        return;
      }
      res.writeHead(404, security).end();
    } catch (error) {
      res
        .writeHead(500, { ...security, "content-type": "text/plain" })
        .end(`agentwarden dashboard: ${(error as Error).message}`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host}:${address.port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
