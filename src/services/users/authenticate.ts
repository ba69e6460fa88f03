import { burnPasswordCheck, PASSWORD_MAX_LENGTH, verifyPassword } from "../../auth/password";
import type { Db } from "../../db/client";
import { findUserByIdentifier } from "./find-user";

/**
 * Checks sign-in details. Returns the user, or null for every kind of failure (unknown user, wrong password,
 * inactive account) so the caller can only ever show one generic message.
 */
export async function authenticate(db: Db, identifier: string, password: string) {
  if (!identifier || !password || identifier.length > 254 || password.length > PASSWORD_MAX_LENGTH) {
    await burnPasswordCheck(password.slice(0, PASSWORD_MAX_LENGTH));
    return null;
  }
  const user = await findUserByIdentifier(db, identifier);
  if (!user) {
    await burnPasswordCheck(password);
    return null;
  }
  const ok = await verifyPassword(user.passwordHash, password);
  return ok && user.isActive ? user : null;
}
