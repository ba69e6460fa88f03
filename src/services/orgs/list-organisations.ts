import type { Db } from "../../db/client";
import { notFound } from "../../lib/errors";

export function listOrganisations(db: Db) {
  return db.organisation.findMany({ orderBy: [{ type: "asc" }, { name: "asc" }] });
}

export async function getOrganisation(db: Db, id: number) {
  const org = await db.organisation.findUnique({ where: { id } });
  if (!org) throw notFound("That organisation does not exist.");
  return org;
}

export async function countPeople(db: Db) {
  const [members, activeMembers, organisations] = await Promise.all([
    db.user.count(),
    db.user.count({ where: { isActive: true } }),
    db.organisation.count(),
  ]);
  return { members, activeMembers, organisations };
}
