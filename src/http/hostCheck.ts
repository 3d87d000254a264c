import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";

export interface HostCheckOptions {
  /** The address the server is bound to. */
  host: string;
  /** The port it listens on (the real one, after listening). */
  port: number;
  /** Further names the server may be addressed by (its `Host`), e.g. a machine's DNS name. */
  allowedHosts?: readonly string[];
}

const LOOPBACK = ["localhost", "127.0.0.1", "[::1]"];
const WILDCARD = new Set(["0.0.0.0", "::", "[::]", ""]);

/**
 * Guards a local HTTP server against DNS rebinding: a web page on a name that resolves to this
 * machine can reach the server, but its requests carry that name as `Host` (and its origin as
 * `Origin`). Accepted: `localhost`, `127.0.0.1`, `[::1]`, the bound address, `allowedHosts`, and,
 * when bound to all interfaces, any IP literal (a name is needed to rebind) — each with the bound
 * port. Returns why a request is refused, or undefined.
 */
export function hostCheck(options: HostCheckOptions): (req: IncomingMessage, api: boolean) => string | undefined {
  const bound = bracket(options.host.toLowerCase());
  const names = new Set([...LOOPBACK, bound, ...(options.allowedHosts ?? []).map((h) => bracket(h.toLowerCase()))]);
  const anyIp = WILDCARD.has(bound);
  const allowed = (hostname: string, port: string | undefined): boolean => {
    if (Number(port ?? 80) !== options.port) return false;
    const name = hostname.toLowerCase();
    return names.has(name) || (anyIp && isIP(name.replace(/^\[(.*)\]$/, "$1")) !== 0);
  };
  return function check(req, api) {
    const host = /^(\[[0-9a-fA-F:.]+\]|[^:[\]/@?#\s]+)(?::(\d+))?$/.exec(req.headers.host ?? "");
    if (!host || !allowed(host[1] as string, host[2])) return "host not allowed";
    const origin = req.headers.origin;
    if (api && origin !== undefined) {
      let url: URL | undefined;
      try {
        url = new URL(origin);
      } catch {
        url = undefined;
      }
      if (url?.protocol !== "http:" || !allowed(url.hostname, url.port || undefined)) return "origin not allowed";
    }
    return undefined;
  };
}

function bracket(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}
