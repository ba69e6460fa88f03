// Managing receivers' endpoints. Who may: federation finance editors every endpoint (federation-wide ones
// included); club officers with EDIT on a club their club's endpoints. Every function takes the actor and checks
// it here, so no route can forget; an endpoint the actor may not manage is "not found" (no probing of ids).
import { z } from "zod";
import type { Db } from "../../db/client";
import type { Prisma } from "../../generated/prisma/client";
import { badInput, forbidden, notFound } from "../../lib/errors";
import { parseInput } from "../../lib/validation";
import { type AuditActor, recordAudit } from "../audit/record";
import { hasGlobal, hasOrg, type Permissions } from "../roles/permissions";
import { EVENT_TYPES } from "./event-types";
import { newEndpointSecret } from "./signature";
import { checkWebhookUrl, type UrlPolicy } from "./url-check";

export interface Actor {
  userId: number;
  permissions: Permissions;
}

/** May `actor` manage endpoints of `organisationId` (null: federation-wide)? */
export function canManageEndpoints(actor: Actor, organisationId: number | null): boolean {
  return organisationId === null
    ? hasGlobal(actor.permissions, "EDIT")
    : hasOrg(actor.permissions, organisationId, "EDIT");
}

/** Organisations whose endpoints `actor` manages; "all" for finance editors. */
export function managedOrganisations(actor: Actor): "all" | number[] {
  if (hasGlobal(actor.permissions, "EDIT")) return "all";
  return [...actor.permissions.orgs].filter(([, level]) => level === "EDIT").map(([id]) => id);
}

const scopeWhere = (actor: Actor) => {
  const orgs = managedOrganisations(actor);
  return orgs === "all" ? {} : { organisationId: { in: orgs } };
};

const PUBLIC_FIELDS = {
  id: true,
  organisationId: true,
  url: true,
  description: true,
  eventTypes: true,
  enabled: true,
  createdAt: true,
} as const;

export async function listEndpoints(db: Db, actor: Actor) {
  return db.webhookEndpoint.findMany({ where: scopeWhere(actor), orderBy: { id: "asc" }, select: PUBLIC_FIELDS });
}

/** The endpoint, if `actor` may manage it; its secret only when `withSecret` (shown on demand to editors). */
export async function getEndpoint(
  db: Db | Prisma.TransactionClient,
  actor: Actor,
  id: number,
  { withSecret = false } = {},
) {
  const endpoint = Number.isSafeInteger(id)
    ? await db.webhookEndpoint.findUnique({ where: { id }, select: { ...PUBLIC_FIELDS, secret: true } })
    : null;
  if (!endpoint || !canManageEndpoints(actor, endpoint.organisationId)) {
    throw notFound("That webhook endpoint does not exist.");
  }
  const { secret, ...rest } = endpoint;
  return withSecret ? { ...rest, secret } : rest;
}

export const createEndpointInput = z.object({
  /** Empty: federation-wide. */
  organisationId: z.coerce.number().int().positive().nullable(),
  url: z.string().trim().min(1, "Enter the URL that should receive the events."),
  description: z.string().trim().max(100, "The description is too long (100 characters at most).").default(""),
  eventTypes: z
    .array(z.enum(EVENT_TYPES, { message: "Choose events from the list." }))
    .min(1, "Choose at least one event.")
    .transform((list) => [...new Set(list)]),
});

export type CreateEndpointInput = z.input<typeof createEndpointInput>;

const MAX_ENDPOINTS_PER_OWNER = 20;

/** Registers an endpoint; the answer carries its new secret (the one time it is shown unasked). */
export async function createEndpoint(
  db: Db,
  actor: Actor,
  raw: CreateEndpointInput,
  policy: UrlPolicy,
  audit: AuditActor,
) {
  const data = parseInput(createEndpointInput, raw);
  if (!canManageEndpoints(actor, data.organisationId)) {
    throw forbidden(
      data.organisationId === null
        ? "Only federation finance editors may add federation-wide endpoints."
        : "You may add endpoints only for clubs where you are a payments editor.",
    );
  }
  if (data.organisationId !== null) {
    const org = await db.organisation.findUnique({ where: { id: data.organisationId }, select: { id: true } });
    if (!org) throw notFound("That organisation does not exist.");
  }
  const count = await db.webhookEndpoint.count({ where: { organisationId: data.organisationId } });
  if (count >= MAX_ENDPOINTS_PER_OWNER) {
    throw badInput(`An organisation may have at most ${MAX_ENDPOINTS_PER_OWNER} endpoints; delete one first.`);
  }
  const url = await checkWebhookUrl(data.url, policy);
  return db.$transaction(async (tx) => {
    const made = await tx.webhookEndpoint.create({
      data: {
        organisationId: data.organisationId,
        url,
        description: data.description,
        eventTypes: data.eventTypes,
        secret: newEndpointSecret(),
        createdByUserId: actor.userId,
      },
      select: { ...PUBLIC_FIELDS, secret: true },
    });
    await recordAudit(tx, endpointRow(audit, "create", made, null, endpointValues(made)));
    return made;
  });
}

type EndpointFields = {
  id: number;
  organisationId: number | null;
  url: string;
  eventTypes: string[];
  enabled: boolean;
};
const endpointValues = (e: EndpointFields) => ({ url: e.url, eventTypes: e.eventTypes, enabled: e.enabled });
const endpointRow = (audit: AuditActor, what: string, e: EndpointFields, before: unknown, after: unknown) => ({
  ...audit,
  action: `webhook_endpoint.${what}`,
  targetType: "webhook_endpoint",
  targetId: e.id,
  orgId: e.organisationId,
  before,
  after,
});

export async function setEndpointEnabled(db: Db, actor: Actor, id: number, enabled: boolean, audit: AuditActor) {
  const e = await getEndpoint(db, actor, id);
  if (e.enabled === enabled) return;
  await db.$transaction(async (tx) => {
    await tx.webhookEndpoint.update({ where: { id }, data: { enabled } });
    await recordAudit(tx, endpointRow(audit, enabled ? "enable" : "disable", e, { enabled: e.enabled }, { enabled }));
  });
}

/**
 * The endpoint with its signing secret, shown on an editor's request: read and recorded
 * (`webhook_endpoint.reveal_secret`, never the secret itself) in one transaction, so no secret is shown unrecorded.
 */
export async function revealEndpointSecret(db: Db, actor: Actor, id: number, audit: AuditActor) {
  return db.$transaction(async (tx) => {
    const e = await getEndpoint(tx, actor, id, { withSecret: true });
    await recordAudit(tx, endpointRow(audit, "reveal_secret", e, null, null));
    return e;
  });
}

/** Deletes the endpoint and its delivery history; jobs still queued for it find nothing and stop. */
export async function deleteEndpoint(db: Db, actor: Actor, id: number, audit: AuditActor) {
  const e = await getEndpoint(db, actor, id);
  await db.$transaction(async (tx) => {
    const { count } = await tx.webhookEndpoint.deleteMany({ where: { id } });
    if (count > 0) await recordAudit(tx, endpointRow(audit, "delete", e, endpointValues(e), null));
  });
}
