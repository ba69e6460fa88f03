// A receiver of outbound webhooks on 127.0.0.1 that checks every signature (recomputing the HMAC) and can be told
// how to fail each request: answer 500, never answer (a timeout), or drop the connection.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { verifySignature } from "../../src/services/webhooks-out/signature";

export type Behaviour = "ok" | "500" | "hang" | "drop";

export interface Received {
  eventId: string;
  type: string;
  body: string;
  signatureValid: boolean;
  answered: Behaviour;
}

export interface Receiver {
  url: string;
  port: number;
  received: Received[];
  /** Only the requests answered 2xx, with a valid signature. */
  delivered: () => Received[];
  close: () => Promise<void>;
}

/** `plan(n)` decides how to answer the n-th request (0-based); default: always ok. */
export async function startReceiver(
  secret: () => string,
  plan: (n: number) => Behaviour = () => "ok",
  port = 0,
): Promise<Receiver> {
  const received: Received[] = [];
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const signatureValid = verifySignature(secret(), body, String(req.headers["bridge-signature"] ?? ""));
      const parsed = JSON.parse(body) as { id: string; type: string };
      const answered = signatureValid ? plan(received.length) : "500";
      received.push({ eventId: parsed.id, type: parsed.type, body, signatureValid, answered });
      if (answered === "ok") res.writeHead(200).end("ok");
      else if (answered === "500") res.writeHead(500).end("boom");
      else if (answered === "drop") req.socket.destroy();
      else hanging.add(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}/hooks`,
    port: actual,
    received,
    delivered: () => received.filter((r) => r.answered === "ok" && r.signatureValid),
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Polls `check` until it returns true or `ms` pass. */
export async function waitFor(check: () => boolean | Promise<boolean>, ms = 20_000, what = "condition") {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}
