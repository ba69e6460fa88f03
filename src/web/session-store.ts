// Sessions in PostgreSQL (connect-pg-simple, table "session" from our migrations). With rolling sessions,
// express-session "touches" the stored session on every page view to move its expiry; connect-pg-simple does that
// with an UPDATE, so every page view was a write and a WAL flush (a commit waiting on the disk) even when nothing
// changed. Here the stored expiry moves only when it is more than TOUCH_SLACK_SECONDS behind the new one: at most
// one write a minute per session. The cookie still slides on every response; the stored expiry lags it by at most
// a minute, so an idle session can end up to a minute before its cookie would have (of an 8-hour lifetime).
import connectPgSimple from "connect-pg-simple";
import type session from "express-session";
import type pg from "pg";

export const TOUCH_SLACK_SECONDS = 60;

export function pgSessionStore(
  expressSession: typeof session,
  pool: pg.Pool,
  opts: { pruneSessionInterval: number | false },
): session.Store {
  const PgStore = connectPgSimple(expressSession);
  class ThrottledTouchStore extends PgStore {
    override touch(sid: string, sess: session.SessionData, fn?: (err?: unknown) => void) {
      const expires = sess.cookie?.expires ? new Date(sess.cookie.expires).getTime() : Date.now();
      // As connect-pg-simple stores it: to_timestamp of whole seconds, into the timestamp column.
      pool
        .query(
          `UPDATE session SET expire = to_timestamp($1)
            WHERE sid = $2 AND expire < to_timestamp($1) - make_interval(secs => $3)`,
          [Math.ceil(expires / 1000), sid, TOUCH_SLACK_SECONDS],
        )
        .then(
          () => fn?.(),
          (err: unknown) => fn?.(err),
        );
    }
  }
  // The table comes from our migrations. Pruning runs on a timer, which would keep test processes alive.
  return new ThrottledTouchStore({
    pool,
    tableName: "session",
    createTableIfMissing: false,
    pruneSessionInterval: opts.pruneSessionInterval,
  });
}
