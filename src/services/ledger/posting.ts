// The shape of a posting as the ledger engine books it, and of its outcome.
import type { AuditEvent } from "../audit/record";
import type { NotificationInput } from "../notifications/outbox";
import type { TransactionType } from "./transaction-types";

export type SystemAccountCode =
  | "CARD_FUNDS"
  | "FEE_INCOME"
  | "SETTLEMENTS_PAYABLE"
  | "ADJUSTMENTS"
  // The federation's bank account: settlement payments leave it (docs/settlement.md, "Lifecycle").
  | "FEDERATION_BANK"
  // Stripe's fees (per payout, and dispute fees), and money Stripe withdrew for disputes (docs/stripe.md).
  | "STRIPE_FEES"
  | "DISPUTES";

/**
 * One line of a posting. Name its account by exactly one of: account id, member (user id), organisation id, or
 * system account. Members and organisations are resolved inside the booking itself, so a payment needs no
 * look-up of its own.
 */
export interface EntryInput {
  accountId?: number;
  userId?: number;
  organisationId?: number;
  system?: SystemAccountCode;
  /** Signed cents: positive = money into this account. */
  amountCents: bigint;
  /** Index (in this posting's entries) of the entry whose account is shown as this one's counterparty. */
  counterparty?: number;
}

export interface PostingInput {
  idempotencyKey: string;
  /** The one type of the posting, shown on every side of it (each entry is written with it). */
  type: TransactionType;
  description: string;
  entries: EntryInput[];
  actorUserId?: number | null;
  clubSessionId?: number | null;
  eventId?: number | null;
  cardPaymentId?: number | null;
  /** Only for administrators' adjustments: lets a member or club go below zero. */
  allowOverdraft?: boolean;
  /** The statement reference (newReferenceNo), when the caller must know it before the booking answers. */
  referenceNo?: string;
  /** Booking time; the database clock when omitted. */
  at?: Date;
  /**
   * Messages this posting sends, written in its transaction only if it is booked. With `whenBalanceBelow`, only
   * if that entry's account ends under the amount; "{balance}" in the body becomes that balance. With
   * `balanceOfEntry`, the message's data gets the balance after that entry (the e-mail's "balance after").
   */
  notify?: (NotificationInput & {
    whenBalanceBelow?: { entryIndex: number; cents: bigint };
    balanceOfEntry?: number;
  })[];
  /**
   * Audit rows of the staff action this posting is (docs/audit.md), written in its transaction only if it is
   * booked (a replay writes none). Each row's `after` gains the posting's id and the first entry's balance after.
   */
  audit?: AuditEvent[];
}

export type PostingResult =
  /** `balances` has one element per entry, in the order the entries were given. */
  | { status: "POSTED"; postingId: bigint; balances: { accountId: number; balanceAfterCents: bigint }[] }
  | { status: "DUPLICATE"; postingId: bigint }
  | { status: "INSUFFICIENT_FUNDS"; entryIndex: number; accountId: number; balanceCents: bigint; amountCents: bigint }
  | { status: "KEY_REUSED"; postingId: bigint }
  | { status: "INVALID"; reason: string };

export type Booked = Extract<PostingResult, { status: "POSTED" | "DUPLICATE" }>;
