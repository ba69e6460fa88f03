import { notFound } from "../../lib/errors";
import type { Payments } from "./context";

/** The federation's own organisation (club number ABF): payee of payments that name no one else. */
export const FEDERATION_CLUB_NUMBER = "ABF";

const cache = new WeakMap<Payments, number>();

export async function federationOrganisationId(p: Payments): Promise<number> {
  const hit = cache.get(p);
  if (hit) return hit;
  const org = await p.db.organisation.findUnique({ where: { clubNumber: FEDERATION_CLUB_NUMBER } });
  if (!org) throw notFound("The federation's organisation (club number ABF) has not been set up.");
  cache.set(p, org.id);
  return org.id;
}
