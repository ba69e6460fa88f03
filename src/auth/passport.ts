// Passport with the local strategy. The session holds only the user id; the user and their roles are read
// again on every request, so a revoked role or a deactivated account takes effect at once.
import { Passport } from "passport";
import { Strategy as LocalStrategy } from "passport-local";
import type { Db } from "../db/client";
import { loadPermissions } from "../services/roles/permissions";
import { authenticate } from "../services/users/authenticate";
import type { SessionUser } from "./session-user";

export async function loadSessionUser(db: Db, id: number): Promise<SessionUser | null> {
  const user = await db.user.findUnique({
    where: { id },
    select: {
      id: true,
      systemNumber: true,
      firstName: true,
      lastName: true,
      email: true,
      isActive: true,
      twoFactor: { select: { enabledAt: true } },
    },
  });
  if (!user?.isActive) return null;
  const { isActive: _, twoFactor, ...rest } = user;
  return { ...rest, twoFactorEnabled: !!twoFactor?.enabledAt, permissions: await loadPermissions(db, id) };
}

export function createPassport(db: Db) {
  const passport = new Passport();
  passport.use(
    new LocalStrategy({ usernameField: "identifier", passwordField: "password" }, (identifier, password, done) => {
      authenticate(db, identifier, password)
        .then(async (user) => done(null, user ? ((await loadSessionUser(db, user.id)) ?? false) : false))
        .catch(done);
    }),
  );
  passport.serializeUser((user, done) => done(null, String(user.id)));
  passport.deserializeUser((id: string, done) => {
    const n = Number(id);
    if (!Number.isInteger(n) || n <= 0) return done(null, false);
    loadSessionUser(db, n)
      .then((u) => done(null, u ?? false))
      .catch(done);
  });
  return passport;
}
