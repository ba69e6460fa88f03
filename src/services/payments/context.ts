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
}

export interface PaymentsDeps {
  db: Db;
  pool: pg.Pool;
  gateway: CardGateway;
  logger: Logger;
  timeZone: string;
  ledger?: LedgerWriterOptions;
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
  };
  registerBuiltInCallbacks(p);
  return p;
}
