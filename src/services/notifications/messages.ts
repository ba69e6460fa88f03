// Every message the payments module sends (reference §3.21, §3.3.2, §3.6, §3.7, §3.8, §3.9, §3.12.1), in one
// place. Each carries a subject and a short body (the mail log's one line, and what rows from before e-mail
// templates show) and the data its template in views/emails is rendered from (docs/emails.md). Amounts are cents.
import { formatAmount, formatMoney } from "../../lib/money";
import { LOW_BALANCE_THRESHOLD_CENTS } from "../payments/calculate-auto-topup-amount";
import type { NotificationInput } from "./outbox";

/** A message; `balanceOfEntry` asks the posting that writes it for the balance after that entry. */
type Message = NotificationInput & { balanceOfEntry?: number };
const cents = (c: bigint) => c.toString();
// One object for every payment's possible warning (built per payment, mostly never written); never mutated:
// the posting engine copies it when it adds the balance.
const LOW_BALANCE_DATA = Object.freeze({ template: "low-balance", thresholdCents: cents(LOW_BALANCE_THRESHOLD_CENTS) });

const STATEMENT = { linkUrl: "/payments", linkText: "View Statement" };

export const messages = {
  autoTopUpSucceeded: (userId: number, amountCents: bigint, key: string): Message => ({
    userId,
    kind: "AUTO_TOP_UP_SUCCEEDED",
    subject: "Auto top up successful",
    body: `Auto top up of ${formatMoney(amountCents)} into your Bridge Credits account was successful.`,
    ...STATEMENT,
    dedupeKey: `auto-top-up:${key}`,
    data: { template: "auto-top-up-succeeded", amountCents: cents(amountCents) },
    balanceOfEntry: 0,
  }),

  autoTopUpFailed: (userId: number, amountCents: bigint, stripeMessage: string, key: string): Message => ({
    userId,
    kind: "AUTO_TOP_UP_FAILED",
    subject: "Auto Top Up Failure",
    body:
      `We tried to take a payment of ${formatMoney(amountCents)} from your credit card but we received this message: ` +
      `${stripeMessage} Auto Top Up has been disabled for the time being, but you can enable it again by clicking below.`,
    linkUrl: "/payments/setup-autotopup",
    linkText: "Auto Top Up",
    dedupeKey: `auto-top-up-failed:${key}`,
    data: { template: "auto-top-up-failed", amountCents: cents(amountCents), reason: stripeMessage },
  }),

  autoTopUpNeedsConfirmation: (userId: number, amountCents: bigint, cardPaymentId: number): Message => ({
    userId,
    kind: "AUTO_TOP_UP_NEEDS_CONFIRMATION",
    subject: "Please confirm your auto top-up",
    body:
      `Your bank wants you to confirm the auto top-up of ${formatMoney(amountCents)} before it is made. ` +
      "Auto Top Up stays on; please confirm the payment by clicking below.",
    linkUrl: `/payments/confirm-auto-topup/${cardPaymentId}`,
    linkText: "Confirm payment",
    dedupeKey: `auto-top-up-confirm:${cardPaymentId}`,
    data: { template: "auto-top-up-needs-confirmation", amountCents: cents(amountCents), cardPaymentId },
  }),

  /** Both e-mails of a member transfer (§3.6). */
  transfer: (
    t: {
      from: { id: number; firstName: string; lastName: string };
      to: { id: number; firstName: string; lastName: string };
      amountCents: bigint;
      description: string;
    },
    key: string,
  ): Message[] => {
    const fromName = `${t.from.firstName} ${t.from.lastName}`;
    const toName = `${t.to.firstName} ${t.to.lastName}`;
    const facts = { amountCents: cents(t.amountCents), description: t.description };
    return [
      {
        userId: t.from.id,
        kind: "TRANSFER_SENT",
        subject: `Transfer to ${toName}`,
        body:
          `You have transferred ${formatAmount(t.amountCents)} credits into the Bridge Credits account of ${toName}. ` +
          `The description was: ${t.description}. Please contact us immediately if you do not recognise this transaction.`,
        ...STATEMENT,
        dedupeKey: `transfer:${key}:from`,
        data: { template: "transfer-sent", ...facts, otherName: toName },
        balanceOfEntry: 0, // the payer's entry comes first in every member transfer
      },
      {
        userId: t.to.id,
        kind: "TRANSFER_RECEIVED",
        subject: `Transfer from ${fromName}`,
        body:
          `${fromName} has transferred ${formatAmount(t.amountCents)} credits into your Bridge Credits account. ` +
          `The description was: ${t.description}. Please contact ${t.from.firstName} directly if you have any queries.`,
        ...STATEMENT,
        dedupeKey: `transfer:${key}:to`,
        data: { template: "transfer-received", ...facts, otherName: fromName, otherFirstName: t.from.firstName },
        balanceOfEntry: 1,
      },
    ];
  },

  orgTransfer: (
    t: { userId: number; orgName: string; adminName: string; amountCents: bigint; description: string },
    key: string,
  ): Message => ({
    userId: t.userId,
    kind: "ORG_TRANSFER",
    subject: `Transfer from ${t.orgName}`,
    body:
      `${t.orgName} has transferred ${formatMoney(t.amountCents)} into your Bridge Credits account. The description ` +
      `was: ${t.description}. Please contact ${t.orgName} directly if you have any queries. This transfer was made by ` +
      `${t.adminName}.`,
    ...STATEMENT,
    dedupeKey: `org-transfer:${key}`,
    data: {
      template: "org-transfer",
      amountCents: cents(t.amountCents),
      orgName: t.orgName,
      adminName: t.adminName,
      description: t.description,
    },
    balanceOfEntry: 1, // the club pays from the first entry, the member receives in the second
  }),

  /** A card payment landed but what it paid for could not be made (§3.5): the money stays on the balance. */
  purchaseNotMade: (
    t: { userId: number; cardAmountCents: bigint; purchaseCents: bigint; payee: string; description: string },
    why: string,
    cardPaymentId: number,
  ): Message => ({
    userId: t.userId,
    kind: "PURCHASE_NOT_MADE",
    subject: `Payment to ${t.payee} not made`,
    body:
      `Your card payment of ${formatMoney(t.cardAmountCents)} has been added to your Bridge Credits balance, but the ` +
      `payment of ${formatMoney(t.purchaseCents)} to ${t.payee} (${t.description}) it was for could not be made: ` +
      `${why} The money stays on your balance.`,
    ...STATEMENT,
    dedupeKey: `purchase-not-made:${cardPaymentId}`,
    data: {
      template: "purchase-not-made",
      cardAmountCents: cents(t.cardAmountCents),
      purchaseCents: cents(t.purchaseCents),
      payee: t.payee,
      description: t.description,
      reason: why,
    },
  }),

  /** "{balance}" is filled in by the posting engine with the balance after the payment. */
  lowBalance: (userId: number, key: string): Message => ({
    userId,
    kind: "LOW_BALANCE",
    subject: "Low Balance Warning",
    body:
      "Your Bridge Credits balance is now {balance}. To avoid running out, you can top up now, or switch on Auto " +
      "Top Up and we will top you up automatically whenever your balance falls below $20.",
    linkUrl: "/payments/manual-topup",
    linkText: "Manual Top Up Now",
    dedupeKey: `low-balance:${key}`,
    data: LOW_BALANCE_DATA,
  }),

  memberRefund: (userId: number, cardAmountCents: bigint, creditsCents: bigint, refundId: number): Message => ({
    userId,
    kind: "CARD_REFUND",
    subject: "Card Refund",
    body:
      `You have requested to refund a card transaction. You will receive a refund of ${formatMoney(cardAmountCents)} ` +
      "to your card. Please note that it can take up to two weeks for the refund to reach your card. Your Bridge " +
      `Credits account balance has been reduced by ${formatMoney(creditsCents)}.`,
    ...STATEMENT,
    dedupeKey: `refund:${refundId}`,
    data: { template: "card-refund", cardAmountCents: cents(cardAmountCents), creditsCents: cents(creditsCents) },
  }),

  adminRefund: (
    userId: number,
    adminName: string,
    cardAmountCents: bigint,
    description: string,
    refundId: number,
  ): Message => ({
    userId,
    kind: "CARD_REFUND",
    subject: "Card Refund",
    body:
      `${adminName} has refunded ${formatMoney(cardAmountCents)} to your card. The description was: ${description}. ` +
      "Please note that it can take up to two weeks for the refund to reach your card. Your Bridge Credits account " +
      `balance has been reduced by ${formatMoney(cardAmountCents)}.`,
    ...STATEMENT,
    dedupeKey: `refund:${refundId}`,
    data: { template: "card-refund-by-staff", cardAmountCents: cents(cardAmountCents), adminName, description },
  }),

  iouCreated: (
    t: { email: string; userId: number | null; orgName: string; amountCents: bigint; description: string },
    iouId: number,
  ): Message => ({
    userId: t.userId,
    email: t.email,
    kind: "IOU_CREATED",
    subject: `Pending Payment to ${t.orgName}`,
    body:
      `${t.orgName} has recorded a pending payment of ${formatMoney(t.amountCents)} for: ${t.description}. You can ` +
      "pay it from your Bridge Credits by clicking below.",
    // The dashboard's "Pending payments" list holds the Pay button.
    linkUrl: "/dashboard#ious-heading",
    linkText: "Pay now",
    dedupeKey: `iou:${iouId}`,
    data: {
      template: "iou-created",
      amountCents: cents(t.amountCents),
      orgName: t.orgName,
      description: t.description,
    },
  }),

  /** To the finance editor who asked for a second approval: what became of it. */
  approvalDecided: (
    r: { id: number; requestedByUserId: number; summary: string },
    outcome: "approved" | "rejected" | "failed",
    deciderName: string,
    reason: string | null,
  ): Message => ({
    userId: r.requestedByUserId,
    kind: "APPROVAL_DECIDED",
    subject: `Approval request ${r.id} ${outcome === "failed" ? "could not be booked" : outcome}`,
    body:
      outcome === "approved"
        ? `${deciderName} approved your request "${r.summary}". It has been booked.`
        : outcome === "rejected"
          ? `${deciderName} rejected your request "${r.summary}". Nothing was booked.${reason ? ` Their note: ${reason}` : ""}`
          : `${deciderName} approved your request "${r.summary}", but it could not be booked: ${reason}. Nothing was booked.`,
    linkUrl: "/payments/approvals",
    linkText: "Approvals",
    dedupeKey: `approval:${r.id}:${outcome}`,
    data: { template: "approval-decided", requestId: r.id, outcome, deciderName, summary: r.summary, reason },
  }),

  /** Stripe took a disputed card payment back: the member's side (issue 20, item 3). */
  disputeWithdrawn: (
    t: { userId: number; cardPaymentId: number; amountCents: bigint; takenCents: bigint; iouCents: bigint },
    disputeId: string,
  ): Message => ({
    userId: t.userId,
    kind: "CARD_DISPUTE",
    subject: "Your card payment has been disputed",
    body:
      `Your bank has disputed your card payment of ${formatMoney(t.amountCents)} (payment ${t.cardPaymentId}) and ` +
      "the money has been taken back from us. " +
      `We have taken ${formatMoney(t.takenCents)} back from your Bridge Credits` +
      (t.iouCents > 0n ? `, and you owe the rest, ${formatMoney(t.iouCents)}, as a pending payment. ` : ". ") +
      "Auto Top Up has been turned off. If you did not mean to dispute this payment, please contact your bank and us.",
    ...STATEMENT,
    dedupeKey: `dispute:${disputeId}:withdrawn`,
    data: {
      template: "dispute-withdrawn",
      amountCents: cents(t.amountCents),
      cardPaymentId: t.cardPaymentId,
      takenCents: cents(t.takenCents),
      iouCents: cents(t.iouCents),
    },
  }),

  disputeReinstated: (
    t: { userId: number; cardPaymentId: number; givenBackCents: bigint; iouCancelled: bigint },
    disputeId: string,
  ): Message => ({
    userId: t.userId,
    kind: "CARD_DISPUTE",
    subject: "The dispute of your card payment is over",
    body:
      `The dispute of your card payment ${t.cardPaymentId} has been decided and the money returned to us. ` +
      `${formatMoney(t.givenBackCents)} is back on your Bridge Credits` +
      (t.iouCancelled > 0n ? ` and the pending payment of ${formatMoney(t.iouCancelled)} is cancelled.` : ".") +
      " You can turn Auto Top Up on again from your account.",
    ...STATEMENT,
    dedupeKey: `dispute:${disputeId}:reinstated`,
    data: {
      template: "dispute-reinstated",
      cardPaymentId: t.cardPaymentId,
      givenBackCents: cents(t.givenBackCents),
      iouCancelledCents: cents(t.iouCancelled),
    },
  }),

  /** Finance staff are told of every dispute whose money moved. */
  disputeForFinance: (userId: number, disputeId: string, step: "withdrawn" | "reinstated", body: string): Message => ({
    userId,
    kind: "CARD_DISPUTE",
    subject:
      step === "withdrawn"
        ? `Card dispute ${disputeId}: funds withdrawn`
        : `Card dispute ${disputeId}: funds reinstated`,
    body,
    linkUrl: "/payments/disputes",
    linkText: "Disputes",
    dedupeKey: `dispute:${disputeId}:${step}:finance:${userId}`,
    data: { template: "dispute-for-finance", disputeId, step },
  }),
};
