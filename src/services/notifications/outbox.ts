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
  | "BANK_DETAILS_CHANGED";

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
}

/** Writes notifications on `client`, inside the caller's transaction. Low-balance warnings only go to members
 * who opted in and have no auto top-up (which would top them up instead). */
export async function writeNotifications(client: TxClient, list: NotificationInput[]) {
  if (list.length === 0) return;
  await client.query(
    `INSERT INTO notifications (user_id, email, kind, subject, body, link_url, link_text, dedupe_key, send_email)
     SELECT x.u, x.m, x.k, x.s, x.b, x.l, x.lt, x.d, x.e
       FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                   $9::boolean[]) AS x(u, m, k, s, b, l, lt, d, e)
       LEFT JOIN users u ON u.id = x.u
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
    ],
  );
}
