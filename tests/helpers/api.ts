// The payments API on real parts: a private database, a private Stripe emulator (auto top-ups, checkouts), the
// real app listening on a port (the emulator posts its webhooks there), API keys made by the real service, and
// every API answer checked against the served OpenAPI document.

import request from "supertest";
import { type ApiScope, createApiKey } from "../../src/services/api/keys";
import type { OutboundEvent } from "../../src/services/api/outbound-events";
import { cliActor } from "../../src/services/audit/record";
import type { TxClient } from "../../src/services/ledger/book-postings";
import { recordOutboundEvent } from "../../src/services/webhooks-out/record-event";
import { makeUser } from "./app";
import { type CardStack, startCardStack } from "./card-stack";
import { checkResponse, type OpenApiDocument } from "./openapi-contract";
import { fundMember } from "./payments";

export interface ApiStack extends CardStack {
  /** Events the API recorded (IOU events come from the IOU service, straight to the outbox), with whether the
   * recording ran inside the transaction of its change. */
  events: (OutboundEvent & { inTransaction: boolean })[];
  admin: { id: number };
  doc: OpenApiDocument;
}

export async function startApiStack(env: Record<string, string> = {}): Promise<ApiStack> {
  const events: ApiStack["events"] = [];
  // The outbox's own recorder, watched: notes each event and whether its transaction had already written (the
  // change it reports).
  const watched = async (sql: TxClient, e: OutboundEvent) => {
    const { rows } = await sql.query<{ open: boolean }>("SELECT pg_current_xact_id_if_assigned() IS NOT NULL AS open");
    events.push({ ...e, inTransaction: rows[0]!.open });
    return recordOutboundEvent(sql, e);
  };
  const stack = await startCardStack({ env, app: { recordOutboundEvent: watched }, maxConnections: 20 });
  const admin = await makeUser(stack.database.prisma, { level: "EDIT" });
  const doc = (await request(stack.app).get("/api/v1/openapi.json")).body as OpenApiDocument;
  return {
    ...stack,
    events,
    admin,
    doc,
    close: async () => {
      await stack.p.ledger.close();
      await stack.close();
    },
  };
}

export async function makeKey(
  s: ApiStack,
  opts: { organisationId?: number | null; scopes?: ApiScope[]; expiresAt?: Date | null } = {},
) {
  const { key, secret } = await createApiKey(
    s.p.db,
    {
      name: "test key",
      organisationId: opts.organisationId ?? null,
      scopes: opts.scopes ?? ["charges:write", "refunds:write", "ious:write", "checkouts:write", "read"],
      expiresAt: opts.expiresAt ?? null,
      live: false,
    },
    cliActor(),
  );
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
  const call = async (
    method: "get" | "post" | "delete",
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    let req = request(s.app)[method](`/api/v1${path}`);
    if (secret) req = req.set("Authorization", `Bearer ${secret}`);
    for (const [k, v] of Object.entries(headers)) req = req.set(k, v);
    const res =
      body === undefined ? await req : await req.set("Content-Type", "application/json").send(JSON.stringify(body));
    checkResponse(s.doc, method, path, res);
    return res;
  };
  return {
    get: (path: string) => call("get", path),
    delete: (path: string) => call("delete", path),
    post: (
      path: string,
      body: unknown,
      key: string | null = newIdempotencyKey(),
      headers: Record<string, string> = {},
    ) => call("post", path, body, key === null ? headers : { "Idempotency-Key": key, ...headers }),
  };
}

/** Outbound events of one type in the outbox (the table the webhook dispatcher reads). */
export async function outboxEvents(s: ApiStack, type: string) {
  const { rows } = await s.p.pool.query<{ source_key: string; payload: Record<string, unknown> }>(
    "SELECT source_key, payload FROM outbound_events WHERE type = $1 ORDER BY id",
    [type],
  );
  return rows;
}
