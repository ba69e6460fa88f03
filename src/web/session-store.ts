// Sessions in PostgreSQL (connect-pg-simple, table "session" from our migrations), with two changes that keep a
// page view to one round trip before the page's own data (issue 17, bench:http):
// - The session is read together with its signed-in user, second factor and roles (one query; the user goes to
//   passport's deserializer through src/auth/session-user-preload.ts). These used to be two queries per request.
// - With rolling sessions express-session "touches" the stored session on every page view to move its expiry;
//   connect-pg-simple does that with an UPDATE, a write and a WAL flush per page view. Here the stored expiry
//   moves only when it is more than TOUCH_SLACK_SECONDS behind the new one (slideSessionExpiry): at most one write
//   a minute per session, and no query at all when the expiry read with the session shows there is nothing to
//   move. The cookie still slides on every response; the stored expiry lags it by at most a minute, so an idle
//   session can end up to a minute before its cookie would have (of an 8-hour lifetime).
import connectPgSimple from "connect-pg-simple";
import type { NextFunction, Request, Response } from "express";
import type session from "express-session";
import type pg from "pg";
import { SESSION_USER_SELECT, type SessionUserRow, sessionUserFrom } from "../auth/session-user";
import { setPreloadedUser } from "../auth/session-user-preload";
import { namedQuery } from "../db/named-query";

export const TOUCH_SLACK_SECONDS = 60;

/** What the read brought besides the session data: kept under symbols, which express-session neither copies nor hashes. */
const LOADED = Symbol("read with the session");
const STORED_EXPIRE = Symbol("stored expiry, epoch seconds");

interface Loaded {
  expire: number;
  userId: number | null;
  user: SessionUserRow | null;
}

// The passport user id is stored as a string of digits; anything else reads no user (passport then refuses it).
const SQL = `
  SELECT s.sess, extract(epoch FROM s.expire::timestamptz)::float8 AS session_expire, k.session_user_id, su.*
    FROM session s
   CROSS JOIN LATERAL (SELECT CASE WHEN s.sess #>> '{passport,user}' ~ '^[1-9][0-9]{0,8}$'
                                   THEN (s.sess #>> '{passport,user}')::int END AS session_user_id) k
    LEFT JOIN LATERAL (${SESSION_USER_SELECT} WHERE u.id = k.session_user_id AND u.is_active) su ON true
   WHERE s.sid = $1 AND s.expire >= to_timestamp($2)`;

type Row = { sess: unknown; session_expire: number; session_user_id: number | null } & (
  | SessionUserRow
  | { [K in keyof SessionUserRow]: null }
);

export function pgSessionStore(
  expressSession: typeof session,
  pool: pg.Pool,
  opts: { pruneSessionInterval: number | false },
): session.Store {
  const PgStore = connectPgSimple(expressSession);
  class SessionAndUserStore extends PgStore {
    private pruneArmed = false;

    override get(sid: string, fn: (err: unknown, sess?: session.SessionData | null) => void) {
      this.armPrune();
      namedQuery<Row>(pool, SQL, [sid, Math.ceil(Date.now() / 1000)]).then(({ rows }) => {
        const r = rows[0];
        if (!r) return fn(null, null);
        let sess: session.SessionData & { [LOADED]?: Loaded };
        try {
          sess = typeof r.sess === "string" ? JSON.parse(r.sess) : (r.sess as session.SessionData);
        } catch {
          return this.destroy(sid, (err) => fn(err, null)); // as connect-pg-simple does with unreadable data
        }
        sess[LOADED] = {
          expire: r.session_expire,
          userId: r.session_user_id,
          user: r.id === null ? null : (r as SessionUserRow),
        };
        fn(null, sess);
      }, fn);
    }

    override createSession(req: Request, data: session.SessionData) {
      const loaded = (data as { [LOADED]?: Loaded })[LOADED];
      const s = super.createSession(req, data);
      if (loaded) {
        (s as { [STORED_EXPIRE]?: number })[STORED_EXPIRE] = loaded.expire;
        if (loaded.userId !== null)
          setPreloadedUser(req, loaded.userId, loaded.user ? sessionUserFrom(loaded.user) : null);
      }
      return s;
    }

    /**
     * connect-pg-simple starts its pruning timer from its own get/set; with get replaced, start it on the first
     * read here (pruneSessions re-arms itself after each run).
     */
    private armPrune() {
      if (this.pruneArmed || !opts.pruneSessionInterval) return;
      this.pruneArmed = true;
      const store = this as unknown as { pruneTimer?: NodeJS.Timeout; pruneSessions: () => void };
      if (store.pruneTimer) return;
      store.pruneTimer = setTimeout(() => store.pruneSessions(), opts.pruneSessionInterval * 1000);
      store.pruneTimer.unref();
    }
  }
  // The table comes from our migrations. Pruning runs on a timer, which would keep test processes alive.
  const store = new SessionAndUserStore({
    pool,
    tableName: "session",
    createTableIfMissing: false,
    pruneSessionInterval: opts.pruneSessionInterval,
  });
  // No touch: express-session, given one, holds back the last byte of every response until the touch calls back
  // and then writes it on its own (two socket writes a page where one does; in bench:http's profiles socket writes
  // were the largest part of a page's CPU). The stored expiry moves in slideSessionExpiry instead.
  Object.defineProperty(store, "touch", { value: undefined });
  return store;
}

/**
 * Moves the stored expiry of the request's session forward when it is more than TOUCH_SLACK_SECONDS behind
 * where rolling puts the cookie's: at most one UPDATE a minute per session, before the page, so the next request
 * reads it; most requests send no query. Mounted right after express-session.
 */
export function slideSessionExpiry(pool: pg.Pool) {
  return (req: Request, _res: Response, next: NextFunction) => {
    const sess = req.session as (session.Session & { [STORED_EXPIRE]?: number }) | undefined;
    const stored = sess?.[STORED_EXPIRE];
    const maxAge = sess?.cookie.originalMaxAge;
    if (!sess || stored === undefined || !maxAge) return next();
    // As connect-pg-simple stores it: to_timestamp of whole seconds, into the timestamp column.
    const wanted = Math.ceil((Date.now() + maxAge) / 1000);
    if (stored >= wanted - TOUCH_SLACK_SECONDS) return next();
    pool
      .query(
        `UPDATE session SET expire = to_timestamp($1)
          WHERE sid = $2 AND expire < to_timestamp($1) - make_interval(secs => $3)`,
        [wanted, req.sessionID, TOUCH_SLACK_SECONDS],
      )
      .then(() => {
        sess[STORED_EXPIRE] = wanted;
        next();
      }, next);
  };
}
