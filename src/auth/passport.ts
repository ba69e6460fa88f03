// Passport with the local strategy. The session holds only the user id; the user, their second factor and their
// roles are read again on every request, so a revoked role or a deactivated account takes effect at once. The
// session store reads them in the same query as the session itself (src/web/session-store.ts); loadSessionUser is
// the same read alone, for sign-in and for a session the store did not preload.
import type { IncomingMessage } from "node:http";
import { Passport } from "passport";
import { Strategy as LocalStrategy } from "passport-local";
import type pg from "pg";
import type { Db } from "../db/client";
import { authenticate } from "../services/users/authenticate";
import { SESSION_USER_SELECT, type SessionUser, type SessionUserRow, sessionUserFrom } from "./session-user";
import { preloadedUser } from "./session-user-preload";

export async function loadSessionUser(pool: Pick<pg.Pool, "query">, id: number): Promise<SessionUser | null> {
  const { rows } = await pool.query<SessionUserRow>(`${SESSION_USER_SELECT} WHERE u.id = $1 AND u.is_active`, [id]);
  return rows[0] ? sessionUserFrom(rows[0]) : null;
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
  // With `req` (arity 3) so the user the session store read with the session (one query for both) is used.
  passport.deserializeUser(
    (req: IncomingMessage, id: string, done: (err: unknown, user?: SessionUser | false) => void) => {
      const n = Number(id);
      if (!Number.isInteger(n) || n <= 0) return done(null, false);
      const pre = preloadedUser(req, n);
      if (pre !== undefined) return done(null, pre ?? false);
      loadSessionUser(pool, n)
        .then((u) => done(null, u ?? false))
        .catch(done);
    },
  );
  return passport;
}
