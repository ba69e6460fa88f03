// One pg pool per process, shared by Prisma (through its driver adapter) and the session store, so the
// connection limit is set in one place.
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "../generated/prisma/client";
import { surviveConnectionLoss } from "./connection-loss";

export type Db = PrismaClient;

export interface Database {
  prisma: PrismaClient;
  pool: pg.Pool;
  close: () => Promise<void>;
}

/**
 * `name` tags the connections (application_name "bridge-credits-<name>") so pg_stat_activity shows which pool
 * a session belongs to, e.g. the read pool of DATABASE_READ_URL.
 */
export function connectDatabase(url: string, opts: { max?: number; name?: string } = {}): Database {
  // A connection lost to a database restart must not crash the process; the pool opens a new one when needed.
  const pool = surviveConnectionLoss(
    new pg.Pool({
      connectionString: url,
      max: opts.max ?? 10,
      ...(opts.name ? { application_name: `bridge-credits-${opts.name}` } : {}),
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 30_000,
    }),
  );
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  let closing: Promise<void> | null = null;
  return {
    prisma,
    pool,
    close: () => {
      closing ??= prisma.$disconnect().then(() => (pool.ended ? undefined : pool.end()));
      return closing;
    },
  };
}
