// The payments core a benchmark drives in-process: no card gateway (nothing here charges cards), a silent
// logger, the federation's time zone; `ledger` tunes the posting engine where a benchmark measures it.
import type { Database } from "../../src/db/client";
import { createLogger } from "../../src/lib/logger";
import { UnconfiguredCardGateway } from "../../src/services/payments/card-gateway";
import { createPayments, type Payments, type PaymentsDeps } from "../../src/services/payments/context";

export function benchPayments(db: Database, ledger?: PaymentsDeps["ledger"]): Payments {
  return createPayments({
    db: db.prisma,
    pool: db.pool,
    gateway: new UnconfiguredCardGateway(),
    logger: createLogger("silent"),
    timeZone: "Australia/Sydney",
    ...(ledger ? { ledger } : {}),
  });
}
