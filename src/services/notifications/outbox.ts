// The notifications outbox (reference §3.21). Rows are written inside the transaction of the event they report
// (a payment's posting, a refund, a card failure), so a message exists exactly when its event does; the dedupe
// key makes a retried event write nothing new. The mailer sends them; the app shows them.
import type { TxClient } from "../ledger/book-postings";

export type NotificationKind =
  | "AUTO_TOP_UP_SUCCEEDED"
  | "AUTO_TOP_UP_FAILED"
  | "AUTO_TOP_UP_NEEDS_CONFIRMATION"
  | "TRANSFER_SENT"
  | "TRANSFER_RECEIVED"
  | "ORG_TRANSFER"
  | "LOW_BALANCE"
  | "CARD_REFUND"
  | "IOU_CREATED"
  | "APPROVAL_DECIDED"
  | "CARD_DISPUTE"
  | "BANK_DETAILS_CHANGED"
  | "PURCHASE_NOT_MADE";

export interface NotificationInput {
  userId?: number | null;
  /** For a person without a login; otherwise the user's own address is used when sending. */
  email?: string | null;
  kind: NotificationKind;
  subject: string;
  body: string;
  linkUrl?: string | null;
  linkText?: string | null;
  /** One message per event: the same key again writes nothing. */
  dedupeKey: string;
  sendEmail?: boolean;
  /**
   * What the e-mail is rendered from (docs/emails.md): the template's name and its facts, amounts as cents in
   * strings. Written as given, plus what only the transaction knows (see writeNotifications).
   */
  data?: NotificationData;
}

/** The facts of a message; `template` names its file in views/emails. */
export interface NotificationData {
  template: string;
  [fact: string]: unknown;
}

/**
 * Writes notifications on `client`, inside the caller's transaction. Low-balance warnings only go to members
 * who opted in and have no auto top-up (which would top them up instead). A message with data gains, read in
 * this same transaction: the recipient's name, their balance (unless the posting gave the balance after its own
 * entry), and for a low-balance warning their last five transactions and auto top-up status — so the e-mail
 * shows the ledger as it stood when the event was booked, however late it is sent.
 */
export async function writeNotifications(client: TxClient, list: NotificationInput[]) {
  if (list.length === 0) return;
  await client.query(
    `INSERT INTO notifications (user_id, email, kind, subject, body, link_url, link_text, dedupe_key, send_email,
                                data)
     SELECT x.u, x.m, x.k, x.s, x.b, x.l, x.lt, x.d, x.e,
            CASE WHEN x.j IS NOT NULL THEN
              x.j::jsonb
              || CASE WHEN u.id IS NULL THEN '{}'::jsonb
                      ELSE jsonb_build_object('recipientName', u.first_name || ' ' || u.last_name) END
              || CASE WHEN x.j::jsonb ? 'balanceAfterCents' OR a.id IS NULL THEN '{}'::jsonb
                      ELSE jsonb_build_object('balanceAfterCents', a.balance_cents::text) END
              || CASE WHEN x.k <> 'LOW_BALANCE' OR a.id IS NULL THEN '{}'::jsonb
                      ELSE jsonb_build_object('autoTopUp', u.auto_top_up_status::text, 'recent', (
                        SELECT coalesce(jsonb_agg(jsonb_build_object(
                                 'at', r.created_at, 'description', r.description, 'type', r.type,
                                 'amountCents', r.amount_cents::text, 'balanceCents', r.balance_after_cents::text)
                                 ORDER BY r.entry_no DESC), '[]'::jsonb)
                          FROM (SELECT e.entry_no, e.created_at, e.amount_cents, e.balance_after_cents, e.type,
                                       p.description
                                  FROM entries e JOIN postings p ON p.id = e.posting_id
                                 WHERE e.account_id = a.id ORDER BY e.entry_no DESC LIMIT 5) r)) END
            END
       FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                   $9::boolean[], $10::text[]) AS x(u, m, k, s, b, l, lt, d, e, j)
       LEFT JOIN users u ON u.id = x.u
       LEFT JOIN accounts a ON a.user_id = x.u
      WHERE x.k <> 'LOW_BALANCE' OR (u.receive_low_balance_emails AND u.auto_top_up_status <> 'ON')
     ON CONFLICT (dedupe_key) DO NOTHING`,
    [
      list.map((n) => n.userId ?? null),
      list.map((n) => n.email ?? null),
      list.map((n) => n.kind),
      list.map((n) => n.subject),
      list.map((n) => n.body),
      list.map((n) => n.linkUrl ?? null),
      list.map((n) => n.linkText ?? null),
      list.map((n) => n.dedupeKey),
      list.map((n) => n.sendEmail ?? true),
      list.map((n) => (n.data ? JSON.stringify(n.data) : null)),
    ],
  );
}
