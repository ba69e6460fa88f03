// The payments core on a private database, with a card gateway whose answers each test chooses. The gateway
// is a stand-in only until the Stripe emulator exists; it implements the same CardGateway interface and
// records a real card payment row for each success, as the Stripe gateway does.
import type { Database } from "../../src/db/client";
import { createLogger } from "../../src/lib/logger";
import type { LedgerWriterOptions } from "../../src/services/ledger/ledger-writer";
import type { CardChargeOutcome, CardGateway, ChargeSavedCardRequest } from "../../src/services/payments/card-gateway";
import { createPayments, type Payments } from "../../src/services/payments/context";
import { adjustMemberBalance, adjustOrganisationBalance } from "../../src/services/payments/manual-adjustment";
import { createTestDatabase, type TestDatabase } from "./db";

type Answer = "succeed" | "hard" | "soft" | "unknown";

export class ScriptedCardGateway implements CardGateway {
  readonly calls: ChargeSavedCardRequest[] = [];
  /** Answer per user; "succeed" when not set. */
  readonly answers = new Map<number, Answer>();
  private readonly charged = new Map<string, CardChargeOutcome>();

  constructor(private readonly payments: () => Payments) {}

  async chargeSavedCard(req: ChargeSavedCardRequest): Promise<CardChargeOutcome> {
    this.calls.push(req);
    const seen = this.charged.get(req.idempotencyKey);
    if (seen) return seen; // like Stripe: the same idempotency key returns the first outcome
    const answer = this.answers.get(req.userId) ?? "succeed";
    let out: CardChargeOutcome;
    if (answer === "succeed") {
      const card = await this.payments().db.cardPayment.create({
        data: {
          userId: req.userId,
          description: req.description,
          amountCents: req.amountCents,
          status: "SUCCEEDED",
          cardBrand: "visa",
          cardLast4: "4242",
          cardExpMonth: 12,
          cardExpYear: 2030,
        },
      });
      out = { status: "succeeded", cardPaymentId: card.id, cardLabel: "visa card **** **** **** 4242 Exp 12/30" };
    } else if (answer === "hard") {
      out = { status: "declined", kind: "hard", message: "Your card has insufficient funds." };
    } else if (answer === "soft") {
      out = { status: "declined", kind: "authentication_required", message: "Your bank needs you to confirm." };
    } else {
      out = { status: "unknown", message: "The card processor did not answer." };
    }
    this.charged.set(req.idempotencyKey, out);
    return out;
  }
}

export interface TestPayments {
  p: Payments;
  gateway: ScriptedCardGateway;
  database: TestDatabase;
  close: () => Promise<void>;
}

/** A payments core on an open database, with its own scripted card gateway. */
export function paymentsOn(database: Database, ledger: LedgerWriterOptions = {}) {
  let p: Payments;
  const gateway = new ScriptedCardGateway(() => p);
  p = createPayments({
    db: database.prisma,
    pool: database.pool,
    gateway,
    logger: createLogger("silent"),
    timeZone: "Australia/Sydney",
    ledger,
  });
  return { p, gateway };
}

export async function startPayments(opts: { max?: number; connections?: number } = {}): Promise<TestPayments> {
  const database = await createTestDatabase({ max: opts.max ?? 10 });
  const { p, gateway } = paymentsOn(database, { connections: opts.connections ?? 2 });
  return { p, gateway, database, close: database.drop };
}

let keySeq = 0;
export const key = (prefix = "t") => `${prefix}-${process.pid}-${++keySeq}-${Math.random().toString(36).slice(2, 8)}`;

/** Gives a member a starting balance, as finance would (a manual adjustment by another user). */
export async function fundMember(p: Payments, userId: number, cents: bigint, actorUserId: number) {
  await adjustMemberBalance(p, {
    userId,
    amountCents: cents,
    description: "Opening balance",
    actorUserId,
    idempotencyKey: key("fund"),
  });
}

export async function fundOrganisation(p: Payments, organisationId: number, cents: bigint, actorUserId: number) {
  await adjustOrganisationBalance(p, {
    organisationId,
    amountCents: cents,
    description: "Opening balance",
    actorUserId,
    idempotencyKey: key("fund"),
  });
}

export async function violations(p: Payments) {
  return p.db.$queryRaw<{ rule: string; subject: string }[]>`SELECT rule, subject FROM ledger_violations()`;
}
