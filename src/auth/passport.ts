// Passport with the local strategy. The session holds only the user id; the user, their second factor and their
// roles are read again on every request, so a revoked role or a deactivated account takes effect at once — in one
// query on the pool (it runs on every signed-in request: the same through Prisma cost several times as much,
// docs/performance.md).
import { Passport } from "passport";
import { Strategy as LocalStrategy } from "passport-local";
import type pg from "pg";
import type { Db } from "../db/client";
import { type Level, permissionsFrom } from "../services/roles/permissions";
import { authenticate } from "../services/users/authenticate";
import type { SessionUser } from "./session-user";

export async function loadSessionUser(pool: Pick<pg.Pool, "query">, id: number): Promise<SessionUser | null> {
  const { rows } = await pool.query<{
    id: number;
    system_number: number;
    first_name: string;
    last_name: string;
    email: string;
    two_factor_enabled: boolean;
    grants: { organisationId: number | null; level: Level }[];
  }>(
    `SELECT u.id, u.system_number, u.first_name, u.last_name, u.email,
            EXISTS (SELECT 1 FROM two_factor_secrets t WHERE t.user_id = u.id AND t.enabled_at IS NOT NULL)
              AS two_factor_enabled,
            coalesce((SELECT json_agg(json_build_object('organisationId', g.organisation_id, 'level', g.level))
                        FROM role_grants g WHERE g.user_id = u.id), '[]') AS grants
       FROM users u
      WHERE u.id = $1 AND u.is_active`,
    [id],
  );
  const u = rows[0];
  if (!u) return null;
  return {
    id: u.id,
    systemNumber: u.system_number,
    firstName: u.first_name,
    lastName: u.last_name,
    email: u.email,
    twoFactorEnabled: u.two_factor_enabled,
    permissions: permissionsFrom(u.grants),
  };
}

export function createPassport(db: Db, pool: Pick<pg.Pool, "query">) {
  const passport = new Passport();
  passport.use(
    new LocalStrategy({ usernameField: "identifier", passwordField: "password" }, (identifier, password, done) => {
      authenticate(db, identifier, password)
        .then(async (user) => done(null, user ? ((await loadSessionUser(pool, user.id)) ?? false) : false))
        .catch(done);
    }),
  );
  passport.serializeUser((user, done) => done(null, String(user.id)));
  passport.deserializeUser((id: string, done) => {
    const n = Number(id);
    if (!Number.isInteger(n) || n <= 0) return done(null, false);
    loadSessionUser(pool, n)
      .then((u) => done(null, u ?? false))
      .catch(done);
  });
  return passport;
}
