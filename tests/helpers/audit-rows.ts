// The audit trail as tests read it: the rows an action wrote, the count, what a signed-in staff member's row
// carries, and an audit write made to fail (to show the action and its row share one transaction).
import type { Db } from "../../src/db/client";

export function auditRows(db: Db) {
  const count = () => db.auditEvent.count();
  /** The rows written while `fn` ran, oldest first. */
  async function during(fn: () => Promise<unknown>) {
    const last = (await db.auditEvent.findFirst({ orderBy: { id: "desc" } }))?.id ?? 0n;
    await fn();
    return db.auditEvent.findMany({ where: { id: { gt: last } }, orderBy: { id: "asc" } });
  }
  return { count, during };
}

/** A row by a signed-in user: their id and name, this request's id and the loopback address. */
export const bySignedIn =
  (user: { id: number }, name: string) => (action: string, targetType: string, targetId: string | number) => ({
    action,
    targetType,
    targetId: String(targetId),
    actorUserId: user.id,
    actorLabel: expect.stringContaining(name),
    requestId: expect.stringMatching(/^[\w-]{8,}$/),
    clientIp: expect.stringMatching(/127\.0\.0\.1|::1/),
  });

/**
 * Runs `fn` while the database refuses to write audit rows of `action` (a test-only trigger): an action whose row
 * is written in its own transaction must then change nothing at all.
 */
export async function withAuditWriteFailing<T>(db: Db, action: string, fn: () => Promise<T>): Promise<T> {
  if (!/^[a-z0-9_.]+$/.test(action)) throw new Error(`not an action name: ${action}`);
  await db.$executeRawUnsafe(`CREATE OR REPLACE FUNCTION test_audit_write_fails() RETURNS trigger LANGUAGE plpgsql
    AS $$ BEGIN RAISE EXCEPTION 'audit write failed (test)'; END $$`);
  await db.$executeRawUnsafe(`CREATE TRIGGER test_audit_write_fails BEFORE INSERT ON audit_events FOR EACH ROW
    WHEN (NEW.action = '${action}') EXECUTE FUNCTION test_audit_write_fails()`);
  try {
    return await fn();
  } finally {
    await db.$executeRawUnsafe("DROP TRIGGER test_audit_write_fails ON audit_events");
  }
}
