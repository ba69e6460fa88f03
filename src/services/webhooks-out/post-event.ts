// One HTTP attempt: POST the event's JSON to the endpoint, signed, with a deadline. Any 2xx is delivered;
// anything else (another status, a timeout, a refused or dropped connection, a refused address) is a failure the
// caller retries.
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { SIGNATURE_HEADER, signatureHeader } from "./signature";
import { guardedLookup, isNonPublicAddress } from "./url-check";

export interface PostResult {
  ok: boolean;
  /** The response status, when a response arrived. */
  status: number | null;
  error: string | null;
}

export interface PostOptions {
  url: string;
  secret: string;
  eventId: string;
  body: string;
  timeoutMs: number;
  allowPrivate: boolean;
}

const MAX_RESPONSE_BYTES = 64 * 1024;

export function postEvent(o: PostOptions): Promise<PostResult> {
  return new Promise((resolve) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const done = (r: PostResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    let url: URL;
    try {
      url = new URL(o.url);
    } catch {
      return done({ ok: false, status: null, error: "the endpoint URL is not valid" });
    }
    const client = url.protocol === "https:" ? https : url.protocol === "http:" ? http : null;
    if (!client) return done({ ok: false, status: null, error: "the endpoint URL is not http(s)" });
    // An address written in the URL is never looked up, so it is checked here.
    const literal = url.hostname.replace(/^\[|\]$/g, "");
    if (net.isIP(literal) && !o.allowPrivate && isNonPublicAddress(literal)) {
      return done({ ok: false, status: null, error: `${literal} is a private address; not delivered` });
    }
    const req = client.request(url, {
      method: "POST",
      agent: false, // a fresh connection each time, so every attempt resolves and checks the host again
      lookup: guardedLookup(o.allowPrivate) as never,
      headers: {
        "Content-Type": "application/json",
        "Content-Length": Buffer.byteLength(o.body),
        "User-Agent": "BridgeCredits-Webhooks/1",
        "Bridge-Event-Id": o.eventId,
        [SIGNATURE_HEADER]: signatureHeader(o.secret, o.body),
      },
    });
    timer = setTimeout(() => {
      req.destroy();
      done({ ok: false, status: null, error: `no answer within ${o.timeoutMs / 1000} s` });
    }, o.timeoutMs);
    req.on("response", (res) => {
      const status = res.statusCode ?? 0;
      let seen = 0;
      // Drain (and cap) the body so the socket closes cleanly; its content is not used.
      res.on("data", (chunk: Buffer) => {
        seen += chunk.length;
        if (seen > MAX_RESPONSE_BYTES) res.destroy();
      });
      const finish = () =>
        done({
          ok: status >= 200 && status < 300,
          status,
          error: status >= 200 && status < 300 ? null : `HTTP ${status}`,
        });
      res.on("end", finish);
      res.on("close", finish);
      res.on("error", finish);
    });
    req.on("error", (err: NodeJS.ErrnoException) => {
      const why = err.code === "EWEBHOOKADDR" ? err.message : `${err.code ?? "error"}: ${err.message}`;
      done({ ok: false, status: null, error: why.slice(0, 500) });
    });
    req.end(o.body);
  });
}
