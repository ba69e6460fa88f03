// Before a Stripe event changes anything, every field of its object that names something — the object's own id,
// the charge / PaymentIntent it belongs to, the customer, the amount and currency — is compared with our record.
// Our metadata (bc_card_payment_id, bc_refund_id…) only says which record the object claims to be: any event
// signed with our secret can carry it (a test or staging deployment on the same Stripe account numbers its rows
// the same way), so it is never proof on its own.
//
// Rules, the same for every handler:
//  - a field known on both sides must be equal;
//  - a `required` field (the object's own id, amount, currency) must be present in Stripe's object;
//  - at least one `link` (a Stripe id we stored, or the customer we created for the member) must be known on
//    both sides — so a record that holds no Stripe id yet is accepted only when Stripe's own ids tie the object
//    to it, and the handler then stores the id.

import type pg from "pg";

type Value = string | number | bigint | null | undefined;

export interface Field {
  /** Stripe's name for the field, as the inbox shows it: "id", "charge", "payment_intent", "amount"… */
  name: string;
  /** What Stripe's object says. */
  theirs: unknown;
  /** What our record holds; null when not stored (yet). */
  ours: Value;
  link?: boolean;
  required?: boolean;
}

export interface Mismatch {
  field: string;
  theirs: string | null;
  ours: string | null;
}

/** A Stripe field as text: ids and currencies as they are, amounts as integer cents; anything else is absent. */
function text(v: unknown): string | null {
  if (typeof v === "string") return v;
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number" && Number.isSafeInteger(v)) return String(v);
  // An expanded object (charge: { id: "ch_…" }) names the object by its id.
  if (v && typeof v === "object" && typeof (v as { id?: unknown }).id === "string") return (v as { id: string }).id;
  return null;
}

/** The first field that does not match our record, or null when the object is ours. */
export function mismatchOf(fields: Field[]): Mismatch | null {
  let linked = false;
  for (const f of fields) {
    const theirs = text(f.theirs);
    const ours = f.ours === null || f.ours === undefined ? null : String(f.ours);
    if (theirs === null && f.required) return { field: f.name, theirs, ours };
    if (theirs === null || ours === null) continue;
    if (theirs !== ours) return { field: f.name, theirs, ours };
    if (f.link) linked = true;
  }
  if (linked) return null;
  const links = fields.filter((f) => f.link).map((f) => f.name);
  return { field: links.join("/"), theirs: null, ours: null };
}

/**
 * What a handler answers for an object that is not ours: the inbox keeps the event as ignored, with what differed
 * (both values); the webhook logs it as a warning. Nothing else changes.
 */
export function notOurs(what: string, m: Mismatch) {
  const outcome =
    m.theirs === null && m.ours === null
      ? `ignored: not matched to ${what}: no ${m.field} of ours to tie it to`
      : `ignored: does not match ${what}: ${m.field} is ${m.theirs ?? "missing"}, ours is ${m.ours ?? "not stored"}`;
  return { outcome, mismatch: m };
}

/** Which of our rows already holds a Stripe id (null: none), so one Stripe object is never tied to two rows. */
export async function holderOf(
  client: Pick<pg.PoolClient, "query">,
  table: "card_payments" | "card_refunds",
  column: "stripe_payment_intent_id" | "stripe_refund_id",
  id: unknown,
) {
  if (typeof id !== "string") return null;
  const { rows } = await client.query<{ id: number }>(`SELECT id FROM ${table} WHERE ${column} = $1`, [id]);
  return rows[0]?.id ?? null;
}
