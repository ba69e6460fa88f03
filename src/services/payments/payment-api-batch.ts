// payment_api_batch (reference §3.1): a member pays an organisation or another member from their balance,
// without anyone at a browser. Differences from the original, on purpose:
//  - the funds check happens under the account locks, inside the posting (no race can overspend);
//  - amounts must be positive; paying both an organisation and a member at once is refused;
//  - after an auto top-up, a payment that still does not fit is reported as failed (the original said "paid");
//  - a caller's idempotency key makes a retried call book nothing new.
import { z } from "zod";
import { badInput, conflict } from "../../lib/errors";
import { formatMoney } from "../../lib/money";
import { parseInput } from "../../lib/validation";
import type { PostingInput, PostingResult } from "../ledger/posting";
import { isTransactionType, type TransactionType } from "../ledger/transaction-types";
import { messages } from "../notifications/messages";
import { autoTopUpMember, waitForTopUp } from "./auto-topup-member";
import { calculateAutoTopupAmount, LOW_BALANCE_THRESHOLD_CENTS } from "./calculate-auto-topup-amount";
import type { Payments } from "./context";
import { federationOrganisationId } from "./federation";
import { descriptionField, idempotencyKeyField } from "./fields";

const input = z
  .object({
    memberId: z.number().int().positive(),
    amountCents: z.bigint().positive("The amount must be more than zero."),
    description: descriptionField(200),
    organisationId: z.number().int().positive().nullish(),
    otherMemberId: z.number().int().positive().nullish(),
    type: z.custom<TransactionType>(isTransactionType, "Unknown transaction type.").default("Miscellaneous"),
    bookInternals: z.boolean().default(true),
    clubSessionId: z.number().int().positive().nullish(),
    eventId: z.number().int().positive().nullish(),
    idempotencyKey: idempotencyKeyField,
  })
  .refine((v) => !(v.organisationId && v.otherMemberId), "A payment goes to an organisation or a member, not both.")
  .refine((v) => v.otherMemberId !== v.memberId, "You cannot pay yourself.");

export type PaymentApiBatchInput = z.input<typeof input>;

export type PaymentApiResult =
  | {
      ok: true;
      /** Null when bookInternals was false (the caller books its own entries). */
      postingId: bigint | null;
      /** True when this key had already been booked: nothing new happened. */
      replayed: boolean;
      balanceAfterCents: bigint | null;
      topUpCents: bigint | null;
    }
  | {
      ok: false;
      reason: "INSUFFICIENT_FUNDS" | "TOP_UP_FAILED";
      message: string;
      balanceCents: bigint;
    };

export async function paymentApiBatch(p: Payments, raw: PaymentApiBatchInput): Promise<PaymentApiResult> {
  const req = parseInput(input, raw);
  if (!req.bookInternals) return checkOnly(p, req, await p.accounts.forUser(req.memberId));

  const payee: Payee = req.otherMemberId
    ? { userId: req.otherMemberId }
    : { organisationId: req.organisationId ?? (await federationOrganisationId(p)) };
  // Messages written with the posting: both transfer e-mails; a low-balance warning if the payer ends under $20.
  const transferMessages = req.otherMemberId ? await transferNotifications(p, req) : [];
  const first = await p.ledger.post(paymentPosting(req, payee, transferMessages, true));
  if (first.status !== "INSUFFICIENT_FUNDS") {
    const done = settled(first);
    if (!done.replayed) await afterPayment(p, req, done.balanceAfterCents);
    return done;
  }

  // Not enough money: an auto top-up may rescue the payment (§3.1 step 4). When another payment of this member
  // is already topping up, wait for it and try again rather than charging the card a second time.
  let result: PostingResult = first;
  let topUpCents: bigint | null = null;
  for (let round = 1; result.status === "INSUFFICIENT_FUNDS"; round++) {
    if (round > 3) return insufficient(result.balanceCents, req.amountCents);
    const rescue = await rescueWithAutoTopUp(p, req, result.balanceCents, round);
    if ("ok" in rescue) return rescue;
    // No low-balance check after a top-up (§3.1 4d).
    result = await p.ledger.post(paymentPosting(req, payee, transferMessages, false));
    if (rescue.topUpCents === null) continue; // we waited for someone else's top-up: look again
    topUpCents = rescue.topUpCents;
    // Someone spent our top-up first; the member keeps the credit, the payment is not made.
    if (result.status === "INSUFFICIENT_FUNDS") return insufficient(result.balanceCents, req.amountCents);
  }
  const done = settled(result);
  if (!done.replayed && req.otherMemberId) emitTransfer(p, req);
  return { ...done, topUpCents };
}

/**
 * For a caller that books the posting itself inside a transaction of its own (the API's grouped charges): the
 * validated payment to an organisation as its posting (the same posting paymentApiBatch books first, low-balance
 * warning included), and what paymentApiBatch does once such a posting is booked (an auto top-up or a low-balance
 * event when the member ends under $20). A posting refused for lack of funds goes through paymentApiBatch itself
 * (its auto top-up rescue is a card payment, outside any transaction).
 */
export function organisationPayment(p: Payments, raw: PaymentApiBatchInput & { organisationId: number }) {
  const req = parseInput(input, raw);
  if (!req.organisationId || req.otherMemberId || !req.bookInternals)
    throw badInput("Not a payment to an organisation.");
  return {
    posting: paymentPosting(req, { organisationId: req.organisationId }, [], true),
    booked: (balanceAfterCents: bigint | null) => afterPayment(p, req, balanceAfterCents),
  };
}

type Payee = { userId: number } | { organisationId: number };
type Notify = NonNullable<PostingInput["notify"]>[number];

/**
 * The payment as a posting. Every payment goes through here, so the objects are written out in full: spreading
 * one object into another, and closures made per call, cost several times more than the fields themselves.
 */
function paymentPosting(req: Req, payee: Payee, transferMessages: Notify[], warnLowBalance: boolean): PostingInput {
  const payeeEntry =
    "userId" in payee
      ? { userId: payee.userId, amountCents: req.amountCents, counterparty: 0 }
      : { organisationId: payee.organisationId, amountCents: req.amountCents, counterparty: 0 };
  let notify = transferMessages;
  if (warnLowBalance) {
    const warning: Notify = messages.lowBalance(req.memberId, req.idempotencyKey);
    warning.whenBalanceBelow = { entryIndex: 0, cents: LOW_BALANCE_THRESHOLD_CENTS };
    notify = transferMessages.length === 0 ? [warning] : [...transferMessages, warning];
  }
  return {
    idempotencyKey: req.idempotencyKey,
    type: req.type,
    description: req.description,
    clubSessionId: req.clubSessionId,
    eventId: req.eventId,
    entries: [{ userId: req.memberId, amountCents: -req.amountCents, counterparty: 1 }, payeeEntry],
    notify,
  };
}

type Failed = Extract<PaymentApiResult, { ok: false }>;

function insufficient(balanceCents: bigint, amountCents: bigint): Failed {
  return {
    ok: false,
    reason: "INSUFFICIENT_FUNDS",
    message: `Insufficient funds: the balance is ${formatMoney(balanceCents)} and the payment is ${formatMoney(amountCents)}.`,
    balanceCents,
  };
}

/** Turns a booked (or replayed) posting into the caller's result; anything else is a programming error. */
function settled(r: PostingResult): Extract<PaymentApiResult, { ok: true }> {
  switch (r.status) {
    case "POSTED":
      return {
        ok: true,
        postingId: r.postingId,
        replayed: false,
        balanceAfterCents: r.balances[0]?.balanceAfterCents ?? null, // the payer's entry comes first
        topUpCents: null,
      };
    case "DUPLICATE":
      return { ok: true, postingId: r.postingId, replayed: true, balanceAfterCents: null, topUpCents: null };
    case "KEY_REUSED":
      throw conflict("That payment reference was already used for a different payment.");
    case "INVALID":
      throw badInput(`The payment could not be booked: ${r.reason}.`);
    default:
      throw new Error(`unexpected posting status ${r.status}`);
  }
}

type Req = z.output<typeof input>;

async function transferNotifications(p: Payments, req: Req) {
  const people = await p.db.user.findMany({
    where: { id: { in: [req.memberId, req.otherMemberId!] } },
    select: { id: true, firstName: true, lastName: true },
  });
  const from = people.find((u) => u.id === req.memberId);
  const to = people.find((u) => u.id === req.otherMemberId);
  if (!from || !to) return [];
  return messages.transfer(
    { from, to, amountCents: req.amountCents, description: req.description },
    req.idempotencyKey,
  );
}

/** After a payment from balance: top up automatically, or warn, when the balance is now under $20 (§3.1 3c). */
async function afterPayment(p: Payments, req: Req, balanceAfter: bigint | null) {
  if (req.otherMemberId) emitTransfer(p, req);
  if (balanceAfter === null || balanceAfter >= LOW_BALANCE_THRESHOLD_CENTS) return;
  const user = await p.db.user.findUniqueOrThrow({
    where: { id: req.memberId },
    select: { autoTopUpStatus: true },
  });
  if (user.autoTopUpStatus === "ON") {
    const r = await autoTopUpMember(p, { userId: req.memberId, idempotencyKey: `after:${req.idempotencyKey}` });
    if (!r.ok) p.logger.info({ userId: req.memberId, message: r.message }, "auto top-up after payment failed");
  } else {
    p.events.emit("lowBalance", { userId: req.memberId, balanceCents: balanceAfter });
  }
}

function emitTransfer(p: Payments, req: Req) {
  p.events.emit("memberTransfer", {
    fromUserId: req.memberId,
    toUserId: req.otherMemberId!,
    amountCents: req.amountCents,
    description: req.description,
  });
}

/**
 * A payment of A found a balance B < A: with auto top-up on, take the §3.3.3 amount from the saved card (keyed by
 * the payment's own key, so a retried payment never charges twice). Answers the amount taken, null after waiting
 * for another top-up of this member already in flight, or the failure.
 */
async function rescueWithAutoTopUp(
  p: Payments,
  req: Req,
  balanceCents: bigint,
  round = 1,
): Promise<{ topUpCents: bigint | null } | Failed> {
  const user = await p.db.user.findUniqueOrThrow({ where: { id: req.memberId } });
  if (user.autoTopUpStatus !== "ON" || !user.autoTopUpAmountCents) {
    return insufficient(balanceCents, req.amountCents);
  }
  const topUpCents = calculateAutoTopupAmount(user.autoTopUpAmountCents, req.amountCents, balanceCents);
  const topUp = await autoTopUpMember(p, {
    userId: user.id,
    amountCents: topUpCents,
    idempotencyKey: round === 1 ? `for:${req.idempotencyKey}` : `for:${req.idempotencyKey}:${round}`,
    // Another payment's top-up may have landed since this one was refused: then charge nothing, look again.
    unlessBalanceAtLeast: req.amountCents,
  });
  if (topUp.ok) return { topUpCents };
  if (topUp.notNeeded) return { topUpCents: null };
  if (topUp.busyWith) {
    await waitForTopUp(p, topUp.busyWith);
    return { topUpCents: null };
  }
  return { ok: false, reason: "TOP_UP_FAILED", message: topUp.message, balanceCents };
}

/** book_internals = false: the caller books its own entries; we only say whether the money is there. */
async function checkOnly(p: Payments, req: Req, memberAccount: number): Promise<PaymentApiResult> {
  const balance = async () =>
    (await p.db.account.findUniqueOrThrow({ where: { id: memberAccount }, select: { balanceCents: true } }))
      .balanceCents;
  const b = await balance();
  if (req.amountCents <= b) {
    return { ok: true, postingId: null, replayed: false, balanceAfterCents: b, topUpCents: null };
  }
  const rescue = await rescueWithAutoTopUp(p, req, b);
  if ("ok" in rescue) return rescue;
  const { topUpCents } = rescue;
  // (After waiting for another top-up, topUpCents is null and the balance is simply read again.)
  const after = await balance();
  return req.amountCents <= after
    ? { ok: true, postingId: null, replayed: false, balanceAfterCents: after, topUpCents }
    : insufficient(after, req.amountCents);
}
