/**
 * Who may talk to the review server. The page runs on the owner's machine, but any web page the owner opens in the
 * same browser can send requests to 127.0.0.1, and DNS rebinding lets a foreign site reach it under its own host
 * name. So every request must carry the server's random token, name the loopback address and port as its Host, and
 * a state-changing request must not come from a foreign Origin. Pure functions over the request's method, URL and
 * headers, so the rules are tested without a socket.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";

/** The only address the server listens on. */
export const LOOPBACK_HOST = "127.0.0.1";
/** Query parameter and header that carry the token (the page adds it to every URL it requests). */
export const TOKEN_PARAM = "t";
export const TOKEN_HEADER = "x-facesets-token";
/** Bytes of randomness in a token (256 bits, as hex). */
const TOKEN_BYTES = 32;

/** A fresh random token for one server run. */
export function newToken(): string {
  return randomBytes(TOKEN_BYTES).toString("hex");
}

export interface RequestFacts {
  method: string;
  /** The request target as sent (`/api/sets?t=...`). */
  url: string;
  /** Lower-case header names, as node:http gives them. */
  headers: { [name: string]: string | string[] | undefined };
}

export interface SafetyRules {
  token: string;
  /** The port the server listens on (part of the expected Host and Origin). */
  port: number;
}

export type Verdict = { ok: true } | { ok: false; status: 403 | 405; reason: string };

/** Methods that change the library; they also need a matching (or absent) Origin. */
const STATE_CHANGING = new Set(["POST"]);
const ALLOWED_METHODS = new Set(["GET", "POST"]);

const header = (facts: RequestFacts, name: string): string | undefined => {
  const v = facts.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

function sameToken(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The origin the page is served from, e.g. `http://127.0.0.1:8123`. */
export function serverOrigin(port: number): string {
  return `http://${LOOPBACK_HOST}:${port}`;
}

/**
 * Whether the request may be served: Host must be the loopback address and port, the token must be in the query
 * (`?t=`) or the `X-Facesets-Token` header, and a POST with an Origin header must come from the server's own origin
 * (browsers always send Origin on a cross-site POST; a missing one is a non-browser client that holds the token).
 */
export function checkRequest(facts: RequestFacts, rules: SafetyRules): Verdict {
  const method = facts.method.toUpperCase();
  if (!ALLOWED_METHODS.has(method)) return { ok: false, status: 405, reason: `method ${method} not allowed` };
  const host = header(facts, "host");
  if (host !== `${LOOPBACK_HOST}:${rules.port}`) {
    return { ok: false, status: 403, reason: `Host ${JSON.stringify(host ?? "")} is not ${LOOPBACK_HOST}:${rules.port}` };
  }
  let query: URLSearchParams;
  try {
    query = new URL(facts.url, serverOrigin(rules.port)).searchParams;
  } catch {
    return { ok: false, status: 403, reason: "malformed request target" };
  }
  const given = header(facts, TOKEN_HEADER) ?? query.get(TOKEN_PARAM) ?? "";
  if (!sameToken(given, rules.token)) return { ok: false, status: 403, reason: "missing or wrong token" };
  if (STATE_CHANGING.has(method)) {
    const origin = header(facts, "origin");
    if (origin !== undefined && origin !== serverOrigin(rules.port)) {
      return { ok: false, status: 403, reason: `Origin ${JSON.stringify(origin)} is not this page's` };
    }
  }
  return { ok: true };
}

/**
 * Why a request path is refused before routing, or undefined. Files are served by id only, so no request path ever
 * names a file; a path with `..`, a backslash, NUL or percent-encoded separators is an attempt to leave that scheme
 * and is refused outright rather than merely not found.
 */
export function refusedPath(pathname: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return "malformed percent-encoding";
  }
  if (/%2f|%5c|%00|%2e/i.test(pathname)) return "encoded separators or dots";
  if (decoded.includes("\\") || decoded.includes("\0")) return "backslash or NUL";
  if (decoded.split("/").some((s) => s === ".." || s === ".")) return "a '..' or '.' segment";
  return undefined;
}

/** Response headers for every answer: no framing, no sniffing, no referrer (the token is in the URL), no outside resources. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cache-control": "no-store",
});
