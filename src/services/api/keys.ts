// API keys (issue 16): a key is shown once at creation and only its SHA-256 is kept. The key's first part
// ("bc_live_" or "bc_test_" and eight random characters) is stored as its prefix: it finds the key with one
// index look-up and names it in lists; the hash of the whole key is then compared in constant time.
import { type AuditActor, recordAudit } from "../audit/record";
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type pg from "pg";
import { z } from "zod";
import type { Db } from "../../db/client";
import { badInput, notFound } from "../../lib/errors";
import { parseInput } from "../../lib/validation";
import { localTime } from "../statements/statement-csv";

export const API_SCOPES = ["charges:write", "refunds:write", "ious:write", "checkouts:write", "read"] as const;
export type ApiScope = (typeof API_SCOPES)[number];

/** The caller of an API request, as the routes see it. */
export interface ApiCaller {
  keyId: number;
  /** null: a federation-wide key. */
  organisationId: number | null;
  scopes: ApiScope[];
  prefix: string;
}

const hashOf = (key: string) => createHash("sha256").update(key).digest();

const createInput = z.object({
  name: z.string().trim().min(1, "Give the key a name.").max(100, "The name must be at most 100 characters."),
  organisationId: z.number().int().positive().nullable(),
  scopes: z
    .array(z.enum(API_SCOPES, { message: `Scopes are ${API_SCOPES.join(", ")}.` }))
    .min(1, "Choose at least one scope."),
  expiresAt: z.date().nullable().default(null),
  createdByUserId: z.number().int().positive().nullable().default(null),
  /** bc_live_ keys with live Stripe; bc_test_ with the emulator or test keys. */
  live: z.boolean(),
});

export type CreateApiKeyInput = z.input<typeof createInput>;

/**
 * Creates a key; answers it with the secret, the only time the secret exists outside the caller's hands. Its
 * audit row (never the secret) is written in the same transaction.
 */
export async function createApiKey(db: Db, raw: CreateApiKeyInput, audit: AuditActor) {
  const req = parseInput(createInput, raw);
  if (req.expiresAt && req.expiresAt.getTime() <= Date.now()) {
    throw badInput("The expiry date must be in the future.");
  }
  if (req.organisationId !== null) {
    const org = await db.organisation.findUnique({ where: { id: req.organisationId }, select: { id: true } });
    if (!org) throw notFound("That organisation does not exist.");
  }
  const prefix = `bc_${req.live ? "live" : "test"}_${randomBytes(6).toString("base64url")}`;
  const secret = `${prefix}${randomBytes(32).toString("base64url")}`;
  const key = await db.$transaction(async (tx) => {
    const made = await tx.apiKey.create({
      data: {
        name: req.name,
        organisationId: req.organisationId,
        prefix,
        secretHash: hashOf(secret).toString("hex"),
        scopes: [...new Set(req.scopes)],
        expiresAt: req.expiresAt,
        createdByUserId: req.createdByUserId,
      },
    });
    await recordAudit(tx, {
      ...audit,
      action: "api_key.create",
      targetType: "api_key",
      targetId: made.id,
      orgId: made.organisationId,
      after: { name: made.name, prefix: made.prefix, scopes: made.scopes, expiresAt: made.expiresAt },
    });
    return made;
  });
  return { key, secret };
}

export type KeyCheck =
  | { ok: true; caller: ApiCaller; expiresAt: Date | null }
  | { ok: false; reason: "malformed" | "unknown" | "revoked" | "expired" };

const KEY_FORMAT = /^(bc_(?:live|test)_[A-Za-z0-9_-]{8})[A-Za-z0-9_-]{43}$/;

interface KeyRow {
  id: number;
  organisation_id: number | null;
  prefix: string;
  secret_hash: string;
  scopes: string[];
  expires_at: Date | null;
  revoked_at: Date | null;
}

/**
 * Checks a presented key. Revocation and expiry are read on every call, so they take effect at once. One plain
 * indexed query on the pool: this runs on every API call, where Prisma's per-query work cost more than the query.
 */
export async function authenticateApiKey(pool: pg.Pool, presented: string): Promise<KeyCheck> {
  const m = KEY_FORMAT.exec(presented);
  if (!m) return { ok: false, reason: "malformed" };
  const { rows } = await pool.query<KeyRow>(
    `SELECT id, organisation_id, prefix, secret_hash, scopes, expires_at, revoked_at
       FROM api_keys WHERE prefix = $1`,
    [m[1]!],
  );
  const key = rows[0];
  const expected = key ? Buffer.from(key.secret_hash, "hex") : Buffer.alloc(32);
  // Compared even when no key has this prefix, so the answer takes the same time either way.
  const same = timingSafeEqual(hashOf(presented), expected);
  if (!key || !same) return { ok: false, reason: "unknown" };
  if (key.revoked_at) return { ok: false, reason: "revoked" };
  if (key.expires_at && key.expires_at.getTime() <= Date.now()) return { ok: false, reason: "expired" };
  return {
    ok: true,
    caller: {
      keyId: key.id,
      organisationId: key.organisation_id,
      scopes: key.scopes as ApiScope[],
      prefix: key.prefix,
    },
    expiresAt: key.expires_at,
  };
}

/**
 * Keys verified by this process, by the SHA-256 of the presented key (the secret itself is not kept). Only for
 * calls whose own database work checks the key again in the same statement (POST /charges: the charge group's
 * claim requires the key unrevoked and unexpired), so a revocation still takes effect on the next call in every
 * process; any other outcome of such a call verifies the key in full first (api-middleware.ts). A key's
 * organisation and scopes never change, so what is kept cannot go stale; entries are dropped after `ttlMs`.
 */
export class ApiKeyCache {
  private readonly keys = new Map<string, { caller: ApiCaller; expiresAt: number; until: number }>();

  constructor(
    private readonly ttlMs = 60_000,
    private readonly maxKeys = 1_000,
  ) {}

  get(presented: string): ApiCaller | null {
    const id = hashOf(presented).toString("hex");
    const hit = this.keys.get(id);
    if (!hit) return null;
    const now = Date.now();
    if (hit.until <= now || hit.expiresAt <= now) {
      this.keys.delete(id);
      return null;
    }
    return hit.caller;
  }

  remember(presented: string, caller: ApiCaller, expiresAt: Date | null) {
    if (this.keys.size >= this.maxKeys) this.keys.clear();
    this.keys.set(hashOf(presented).toString("hex"), {
      caller,
      expiresAt: expiresAt?.getTime() ?? Number.POSITIVE_INFINITY,
      until: Date.now() + this.ttlMs,
    });
  }

  forget(presented: string) {
    this.keys.delete(hashOf(presented).toString("hex"));
  }
}

/** Revokes a key (again: nothing changes and nothing is recorded). */
export async function revokeApiKey(db: Db, id: number, audit: AuditActor) {
  await db.$transaction(async (tx) => {
    const revoked = await tx.$queryRaw<{ organisationId: number | null; prefix: string }[]>`
      UPDATE api_keys SET revoked_at = now() WHERE id = ${id} AND revoked_at IS NULL
      RETURNING organisation_id AS "organisationId", prefix`;
    const key = revoked[0];
    if (key) {
      await recordAudit(tx, {
        ...audit,
        action: "api_key.revoke",
        targetType: "api_key",
        targetId: id,
        orgId: key.organisationId,
        before: { revokedAt: null },
        after: { prefix: key.prefix, revoked: true },
      });
    } else if (!(await tx.apiKey.findUnique({ where: { id }, select: { id: true } }))) {
      throw notFound("That API key does not exist.");
    }
  });
}

export type KeyStatus = "active" | "revoked" | "expired";

export async function listApiKeys(db: Db) {
  const keys = await db.apiKey.findMany({
    orderBy: { id: "desc" },
    include: { organisation: { select: { name: true, clubNumber: true } } },
  });
  const now = Date.now();
  return keys.map((k) => ({
    ...k,
    status: (k.revokedAt ? "revoked" : k.expiresAt && k.expiresAt.getTime() <= now ? "expired" : "active") as KeyStatus,
  }));
}

/**
 * "YYYY-MM-DD" (from a form or the CLI) → the moment the key stops working: the end of that day in the
 * federation's time zone. Empty → no expiry.
 */
export function parseExpiryDate(raw: unknown, timeZone: string): Date | null {
  const text = typeof raw === "string" ? raw.trim() : "";
  if (text === "") return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  const day = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : null;
  if (!day || day.toISOString().slice(0, 10) !== text) throw badInput("The expiry must be a date (YYYY-MM-DD).");
  const nextMidnightUtc = day.getTime() + 86_400_000;
  // The zone's offset at a moment (asked twice, so a change of daylight saving around midnight is allowed for).
  const offsetAt = (t: number) =>
    Date.parse(`${localTime(new Date(t), timeZone).replace(" ", "T")}Z`) - Math.floor(t / 1000) * 1000;
  const first = nextMidnightUtc - offsetAt(nextMidnightUtc);
  return new Date(nextMidnightUtc - offsetAt(first));
}

/** bc_live_ keys only when real Stripe runs with live keys. */
export const liveKeys = (stripeSecretKey: string | undefined) => /^(sk|rk)_live_/.test(stripeSecretKey ?? "");
