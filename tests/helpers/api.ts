// The payments API on real parts: a private database, a private Stripe emulator (auto top-ups, checkouts), the
// real app listening on a port (the emulator posts its webhooks there), API keys made by the real service, and
// every API answer checked against the served OpenAPI document.
import type { Server } from "node:http";
import type { Express } from "express";
import request from "supertest";
import { createApp } from "../../src/app";
import { loadConfig } from "../../src/config";
import { type StripeEmulator, startStripeEmulator } from "../../src/infra/stripe-emulator";
import { createLogger } from "../../src/lib/logger";
import { type ApiScope, createApiKey } from "../../src/services/api/keys";
import type { OutboundEvent } from "../../src/services/api/outbound-events";
import type { TxClient } from "../../src/services/ledger/book-postings";
import type { Payments } from "../../src/services/payments/context";
import { makeUser } from "./app";
import { createTestDatabase, type TestDatabase } from "./db";
import { type OpenApiDocument, checkResponse } from "./openapi-contract";
import { fundMember, paymentsOn } from "./payments";

export interface ApiStack {
  p: Payments;
  emulator: StripeEmulator;
  database: TestDatabase;
  app: Express;
  base: string;
  /** Events the API recorded, with whether the recording ran inside an open transaction. */
  events: (OutboundEvent & { inTransaction: boolean })[];
  admin: { id: number };
  doc: OpenApiDocument;
  close: () => Promise<void>;
}

export async function startApiStack(env: Record<string, string> = {}): Promise<ApiStack> {
  const database = await createTestDatabase({ max: 20 });
  const emulator = await startStripeEmulator();
  emulator.webhooks.retryDelayMs = 20;
  const { p } = paymentsOn(database, emulator);
  const config = loadConfig({ NODE_ENV: "test", LOG_LEVEL: "silent", DATABASE_URL: database.url, ...env });
  const events: ApiStack["events"] = [];
  // Stands in for the outbound webhooks' recorder: notes the event and whether its transaction has already written (the change it reports).
  const recordOutboundEvent = async (sql: TxClient, e: OutboundEvent) => {
    const { rows } = await sql.query<{ open: boolean }>("SELECT pg_current_xact_id_if_assigned() IS NOT NULL AS open");
    events.push({ ...e, inTransaction: rows[0]!.open });
  };
  const app = createApp({
    config,
    database,
    logger: createLogger(process.env.TEST_LOG_LEVEL === "error" ? "error" : "silent"),
    sessionSecret: "test-secret-test-secret-test-secret-0123",
    payments: p,
    recordOutboundEvent,
  });
  const server: Server = app.listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  const addr = server.address();
  const base = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
  emulator.sendWebhooksTo(`${base}/payments/stripe-webhook`);
  const admin = await makeUser(database.prisma, { level: "EDIT" });
  const doc = (await request(app).get("/api/v1/openapi.json")).body as OpenApiDocument;
  return {
    p,
    emulator,
    database,
    app,
    base,
    events,
    admin,
    doc,
    close: async () => {
      await emulator.close();
      await new Promise((r) => server.close(r));
      server.closeAllConnections();
      await p.ledger.close();
      await database.drop();
    },
  };
}

export async function makeKey(
  s: ApiStack,
  opts: { organisationId?: number | null; scopes?: ApiScope[]; expiresAt?: Date | null } = {},
) {
  const { key, secret } = await createApiKey(s.p.db, {
    name: "test key",
    organisationId: opts.organisationId ?? null,
    scopes: opts.scopes ?? ["charges:write", "refunds:write", "ious:write", "checkouts:write", "read"],
    expiresAt: opts.expiresAt ?? null,
    live: false,
  });
  return { id: key.id, secret };
}

export async function memberWith(s: ApiStack, cents: bigint) {
  const u = await makeUser(s.p.db);
  if (cents > 0n) await fundMember(s.p, u.id, cents, s.admin.id);
  return u;
}

let idem = 0;
export const newIdempotencyKey = () => `idem-${process.pid}-${++idem}-${Math.random().toString(36).slice(2, 8)}`;

/** Calls the API (through supertest) and checks the answer against the served OpenAPI document. */
export function api(s: ApiStack, secret: string | null) {
  const call = async (method: "get" | "post" | "delete", path: string, body?: unknown, headers: Record<string, string> = {}) => {
    let req = request(s.app)[method](`/api/v1${path}`);
    if (secret) req = req.set("Authorization", `Bearer ${secret}`);
    for (const [k, v] of Object.entries(headers)) req = req.set(k, v);
    const res = body === undefined ? await req : await req.set("Content-Type", "application/json").send(JSON.stringify(body));
    checkResponse(s.doc, method, path, res);
    return res;
  };
  return {
    get: (path: string) => call("get", path),
    delete: (path: string) => call("delete", path),
    post: (path: string, body: unknown, key: string | null = newIdempotencyKey(), headers: Record<string, string> = {}) =>
      call("post", path, body, key === null ? headers : { "Idempotency-Key": key, ...headers }),
  };
}
