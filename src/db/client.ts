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

export function connectDatabase(url: string, opts: { max?: number } = {}): Database {
  // A connection lost to a database restart must not crash the process; the pool opens a new one when needed.
  const pool = surviveConnectionLoss(
    new pg.Pool({
      connectionString: url,
      max: opts.max ?? 10,
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
