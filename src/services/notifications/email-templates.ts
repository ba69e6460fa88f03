// The e-mail templates (views/emails/<name>.njk) and a sample message for each: the preview page lists them
// from here, and a test checks that every template file is listed and every listed template renders, so a new
// template cannot be forgotten. Samples are built by the real message builders, plus the facts the outbox adds
// in the event's transaction (recipient's name, balance after, recent transactions).
import { messages } from "./messages";
import type { NotificationData, NotificationInput, NotificationKind } from "./outbox";

export interface EmailTemplate {
  kind: NotificationKind | null;
  /** What the e-mail is, for the preview list. */
  title: string;
  sample: () => { subject: string; body: string; linkUrl: string | null; linkText: string | null; data: unknown };
}

const RECIPIENT = "Zoë Ångström-Nguyễn";
const MEMBER = { id: 1, firstName: "Zoë", lastName: "Ångström-Nguyễn" };
const OTHER = { id: 2, firstName: "Kiri", lastName: "O'Brien & Sons" };
const ago = (days: number) => new Date(Date.UTC(2026, 10, 30 - days, 1, 0)).toISOString();

/** A builder's message as the outbox stores it, with what the outbox would add. */
function stored(m: NotificationInput, added: Record<string, unknown> = {}) {
  const data: NotificationData | undefined = m.data && { recipientName: RECIPIENT, ...m.data, ...added };
  return { subject: m.subject, body: m.body, linkUrl: m.linkUrl ?? null, linkText: m.linkText ?? null, data };
}

const recent = [
  ["Club session: Monday pairs", "-1200", "1450"],
  ["Club session: Thursday teams", "-1500", "2650"],
  ["Payment from Visa ending 4242", "5000", "4150"],
  ["Congress entry", "-3000", "-850"],
  ["Transfer from Kiri O'Brien", "2500", "2150"],
].map(([description, amountCents, balanceCents], i) => ({
  at: ago(i),
  description,
  type: "Club Payment",
  amountCents,
  balanceCents,
}));

export const EMAIL_TEMPLATES: Record<string, EmailTemplate> = {
  "auto-top-up-succeeded": {
    kind: "AUTO_TOP_UP_SUCCEEDED",
    title: "Auto top-up made",
    sample: () => stored(messages.autoTopUpSucceeded(1, 5_000n, "sample"), { balanceAfterCents: "6450" }),
  },
  "auto-top-up-failed": {
    kind: "AUTO_TOP_UP_FAILED",
    title: "Auto top-up card refused",
    sample: () =>
      stored(messages.autoTopUpFailed(1, 5_000n, "Your card has insufficient funds.", "sample"), {
        balanceAfterCents: "1450",
      }),
  },
  "auto-top-up-needs-confirmation": {
    kind: "AUTO_TOP_UP_NEEDS_CONFIRMATION",
    title: "Auto top-up needs the member's confirmation",
    sample: () => stored(messages.autoTopUpNeedsConfirmation(1, 5_000n, 42), { balanceAfterCents: "1450" }),
  },
  "transfer-sent": {
    kind: "TRANSFER_SENT",
    title: "Member transfer: to the payer",
    sample: () =>
      stored(
        messages.transfer({ from: MEMBER, to: OTHER, amountCents: 2_550n, description: "Dinner at congress" }, "s")[0]!,
        { balanceAfterCents: "7450" },
      ),
  },
  "transfer-received": {
    kind: "TRANSFER_RECEIVED",
    title: "Member transfer: to the payee",
    sample: () =>
      stored(
        messages.transfer({ from: OTHER, to: MEMBER, amountCents: 2_550n, description: "Dinner at congress" }, "s")[1]!,
        { balanceAfterCents: "12550" },
      ),
  },
  "org-transfer": {
    kind: "ORG_TRANSFER",
    title: "Club paid a member",
    sample: () =>
      stored(
        messages.orgTransfer(
          {
            userId: 1,
            orgName: "Harbour City Bridge Club",
            adminName: "Pat Treasurer",
            amountCents: 4_000n,
            description: "Prize money, autumn pairs",
          },
          "sample",
        ),
        { balanceAfterCents: "5450" },
      ),
  },
  "low-balance": {
    kind: "LOW_BALANCE",
    title: "Low balance warning",
    sample: () => {
      const m = messages.lowBalance(1, "sample");
      return stored(
        { ...m, body: m.body.replace("{balance}", "$14.50") },
        {
          balanceAfterCents: "1450",
          autoTopUp: "OFF",
          recent,
        },
      );
    },
  },
  "card-refund": {
    kind: "CARD_REFUND",
    title: "Card refund the member asked for",
    sample: () => stored(messages.memberRefund(1, 3_000n, 3_000n, 7), { balanceAfterCents: "1450" }),
  },
  "card-refund-by-staff": {
    kind: "CARD_REFUND",
    title: "Card refund made by finance staff",
    sample: () =>
      stored(messages.adminRefund(1, "Fran Finance", 3_000n, "Charged twice for the congress", 7), {
        balanceAfterCents: "1450",
      }),
  },
  "iou-created": {
    kind: "IOU_CREATED",
    title: "Pending payment (IOU) to a club",
    sample: () =>
      stored(
        messages.iouCreated(
          {
            email: "zoe@example.org",
            userId: 1,
            orgName: "Harbour City Bridge Club",
            amountCents: 1_200n,
            description: "Table money, Monday pairs",
          },
          9,
        ),
        { balanceAfterCents: "450" },
      ),
  },
  "approval-decided": {
    kind: "APPROVAL_DECIDED",
    title: "Second approval decided (to the finance editor who asked)",
    sample: () =>
      stored(
        messages.approvalDecided(
          { id: 12, requestedByUserId: 1, summary: "Adjust Kiri O'Brien by $600.00" },
          "rejected",
          "Sam Second",
          "Please attach the club's letter",
        ),
      ),
  },
  "dispute-withdrawn": {
    kind: "CARD_DISPUTE",
    title: "Card payment disputed: money taken back",
    sample: () =>
      stored(
        messages.disputeWithdrawn(
          { userId: 1, cardPaymentId: 42, amountCents: 5_000n, takenCents: 1_450n, iouCents: 3_550n },
          "dp_sample",
        ),
        { balanceAfterCents: "0" },
      ),
  },
  "dispute-reinstated": {
    kind: "CARD_DISPUTE",
    title: "Card dispute over: money given back",
    sample: () =>
      stored(
        messages.disputeReinstated(
          { userId: 1, cardPaymentId: 42, givenBackCents: 1_450n, iouCancelled: 3_550n },
          "dp_sample",
        ),
        { balanceAfterCents: "1450" },
      ),
  },
  "dispute-for-finance": {
    kind: "CARD_DISPUTE",
    title: "Card dispute: to finance staff",
    sample: () =>
      stored(
        messages.disputeForFinance(
          1,
          "dp_sample",
          "withdrawn",
          "Stripe withdrew $50.00 for dispute dp_sample of card payment 42 by Zoë Ångström-Nguyễn.",
        ),
      ),
  },
  "purchase-not-made": {
    kind: "PURCHASE_NOT_MADE",
    title: "Card payment kept as a top-up: what it paid for could not be made",
    sample: () =>
      stored(
        messages.purchaseNotMade(
          {
            userId: 1,
            cardAmountCents: 1_700n,
            purchaseCents: 2_000n,
            payee: "Harbour City Bridge Club",
            description: "Congress entry",
          },
          "your balance no longer covered it.",
          42,
        ),
        { balanceAfterCents: "1700" },
      ),
  },
  "bank-details-changed": {
    kind: "BANK_DETAILS_CHANGED",
    title: "Club bank details changed (to the club's officers)",
    sample: () => ({
      subject: "Harbour City Bridge Club: bank details changed",
      body: "The federation's finance team changed Harbour City Bridge Club's settlement details.",
      linkUrl: "/payments/statement-org/3",
      linkText: "View the club",
      data: {
        template: "bank-details-changed",
        recipientName: RECIPIENT,
        orgName: "Harbour City Bridge Club",
        changes: [
          { field: "BSB", old: "062-000", new: "082-001" },
          { field: "Account number", old: "ending 678", new: "ending 321" },
        ],
      },
    }),
  },
  message: {
    kind: null,
    title: "Any message written before e-mail templates (subject, body and link only)",
    sample: () => ({
      subject: "Transfer from Kiri O'Brien",
      body: "Kiri O'Brien has transferred 25.50 credits into your Bridge Credits account. The description was: Dinner.",
      linkUrl: "/payments",
      linkText: "View Statement",
      data: null,
    }),
  },
};

export const EMAIL_TEMPLATE_NAMES = Object.keys(EMAIL_TEMPLATES);
