// Everything the payment use cases need, passed in one object so tests (and other modules) control each part:
// the database, the posting engine, the card processor, the event bus, the callback registry and the clock.
import type pg from "pg";
import type { Db } from "../../db/client";
import type { Logger } from "../../lib/logger";
import { AccountDirectory } from "../ledger/accounts";
import { LedgerWriter, type LedgerWriterOptions } from "../ledger/ledger-writer";
import { registerBuiltInCallbacks } from "./built-in-callbacks";
import { CallbackRegistry } from "./callbacks";
import type { CardGateway } from "./card-gateway";
import { PaymentEvents } from "./payment-events";

export interface Payments {
  db: Db;
  pool: pg.Pool;
  ledger: LedgerWriter;
  accounts: AccountDirectory;
  gateway: CardGateway;
  events: PaymentEvents;
  callbacks: CallbackRegistry;
  logger: Logger;
  timeZone: string;
  /** Where read-only pages and exports read: DATABASE_READ_URL's client, or the same as db/pool. */
  read: ReadClient;
}

/** A client for reads only: a replica or a SELECT-only role (DATABASE_READ_URL). */
export interface ReadClient {
  db: Db;
  pool: pg.Pool;
}

export interface PaymentsDeps {
  db: Db;
  pool: pg.Pool;
  gateway: CardGateway;
  logger: Logger;
  timeZone: string;
  ledger?: LedgerWriterOptions;
  /** DATABASE_READ_URL's client; reads go to db/pool when not given. */
  read?: ReadClient;
}

export function createPayments(deps: PaymentsDeps): Payments {
  const p: Payments = {
    db: deps.db,
    pool: deps.pool,
    ledger: new LedgerWriter(deps.pool, deps.ledger),
    accounts: new AccountDirectory(deps.db),
    gateway: deps.gateway,
    events: new PaymentEvents(),
    callbacks: new CallbackRegistry(deps.logger),
    logger: deps.logger,
    timeZone: deps.timeZone,
    read: deps.read ?? { db: deps.db, pool: deps.pool },
  };
  registerBuiltInCallbacks(p);
  return p;
}

const readers = new WeakMap<Payments, Payments>();

/**
 * The payments context seen by a read-only page or export: its queries go to the read client. Only for code that
 * never writes (a replica refuses writes) and may show data a moment old (a replica lags a little): statements,
 * exports, reports, balance lists. The ledger and everything else stay as they are.
 */
export function forReading(p: Payments): Payments {
  if (p.read.pool === p.pool) return p;
  let r = readers.get(p);
  if (!r) {
    r = { ...p, db: p.read.db, pool: p.read.pool };
    readers.set(p, r);
  }
  return r;
}
