// Who may do what with payments. A grant is VIEW or EDIT, either global (every organisation) or for one
// organisation; EDIT implies VIEW, and a global grant counts for every organisation.
import type { Db } from "../../db/client";

export type Level = "VIEW" | "EDIT";

export interface Permissions {
  global: Level | null;
  orgs: ReadonlyMap<number, Level>;
}

const satisfies = (held: Level | null | undefined, wanted: Level) =>
  held === "EDIT" || (held === "VIEW" && wanted === "VIEW");

export function hasGlobal(p: Permissions, wanted: Level): boolean {
  return satisfies(p.global, wanted);
}

export function hasOrg(p: Permissions, orgId: number, wanted: Level): boolean {
  return satisfies(p.global, wanted) || satisfies(p.orgs.get(orgId), wanted);
}

export async function loadPermissions(db: Db, userId: number): Promise<Permissions> {
  return permissionsFrom(
    await db.roleGrant.findMany({ where: { userId }, select: { organisationId: true, level: true } }),
  );
}

/** A user's permissions from their grants (global: organisationId null). */
export function permissionsFrom(grants: { organisationId: number | null; level: Level }[]): Permissions {
  let global: Level | null = null;
  const orgs = new Map<number, Level>();
  for (const g of grants) {
    if (g.organisationId === null) global = g.level;
    else orgs.set(g.organisationId, g.level);
  }
  return { global, orgs };
}

/** Holds EDIT anywhere (global or for some organisation): such users must sign in with a second factor. */
export function holdsAnyEdit(p: Permissions): boolean {
  return p.global === "EDIT" || [...p.orgs.values()].includes("EDIT");
}
