// Losing the database is an outage, not a bug: PostgreSQL restarting or an administrator ending our sessions must
// neither crash the process nor leave a dead connection in a pool. This file knows what such a failure looks like
// (from node-postgres, and from Prisma's driver adapter, which wraps it) and keeps a pool's connections from
// turning one into an unhandled 'error' event.
import type pg from "pg";

/**
 * SQLSTATEs of a connection the server ended or would not open: 57P01 admin shutdown, 57P02 crash shutdown,
 * 57P03 cannot connect now (starting up, shutting down), 53300 too many connections, and class 08 (connection
 * exception).
 */
const LOST_STATE = /^(57P0[123]|53300|08[0-9A-Z]{3})$/;
/** Node socket errors on the way to the server. */
const SOCKET_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "ENOTFOUND", "EHOSTUNREACH"]);
/** Prisma's codes for an unreachable server, a closed connection, timeouts on connecting and on its pool. */
const PRISMA_CODES = new Set(["P1001", "P1002", "P1008", "P1017", "P2024"]);
/** What Prisma's pg adapter calls the same failures. */
const ADAPTER_KINDS = new Set(["DatabaseNotReachable", "ConnectionClosed", "SocketTimeout", "TooManyConnections"]);
/** node-postgres's own words for a dead or unobtainable connection (these errors carry no code). */
const MESSAGES =
  /Connection terminated|connection error and is not queryable|timeout exceeded when trying to connect|Can't reach database server|Server has closed the connection/i;

type Node = {
  code?: unknown;
  originalCode?: unknown;
  kind?: unknown;
  message?: unknown;
  cause?: unknown;
  meta?: { driverAdapterError?: unknown };
  errors?: unknown;
};

/** True when `err` (or what it wraps) says the database connection was lost or could not be made. */
export function isConnectionLost(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== "object" || depth > 6) return false;
  const e = err as Node;
  for (const code of [e.code, e.originalCode]) {
    if (typeof code === "string" && (LOST_STATE.test(code) || SOCKET_CODES.has(code) || PRISMA_CODES.has(code)))
      return true;
  }
  if (typeof e.kind === "string" && ADAPTER_KINDS.has(e.kind)) return true;
  if (typeof e.message === "string" && MESSAGES.test(e.message)) return true;
  const inner = [e.cause, e.meta?.driverAdapterError, ...(Array.isArray(e.errors) ? e.errors : [])];
  return inner.some((x) => x !== err && isConnectionLost(x, depth + 1));
}

/**
 * Gives every connection `pool` opens an 'error' listener of its own. node-postgres emits 'error' on a client
 * whose server went away; the pool listens only while the client is idle, so a client that was checked out at
 * that moment would otherwise crash the process. The query running on it fails with the same error, and the pool
 * discards the client when it comes back (it is no longer queryable).
 */
export function surviveConnectionLoss(pool: pg.Pool, onLost: (err: Error) => void = () => {}): pg.Pool {
  pool.on("connect", (client) => client.on("error", onLost));
  // An idle client losing its server: the pool has already removed it; nothing else to do.
  pool.on("error", () => {});
  return pool;
}
