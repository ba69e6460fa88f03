import type { Db } from "../../db/client";
import { notFound } from "../../lib/errors";

/**
 * A user by whatever a person types to name them: an ABF number or an e-mail address.
 * Returns null when nothing matches.
 */
export function findUserByIdentifier(db: Db, identifier: string) {
  const key = identifier.trim();
  if (/^\d{1,10}$/.test(key)) {
    const n = Number(key);
    return n > 0 && n <= 2_000_000_000 ? db.user.findUnique({ where: { systemNumber: n } }) : null;
  }
  return key.includes("@") ? db.user.findUnique({ where: { email: key.toLowerCase() } }) : null;
}

export async function getUserByIdentifier(db: Db, identifier: string) {
  const user = await findUserByIdentifier(db, identifier);
  if (!user) throw notFound(`No user with ABF number or e-mail "${identifier}".`);
  return user;
}
