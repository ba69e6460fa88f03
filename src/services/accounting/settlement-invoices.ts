// The original's Xero step for settlements, as import files: per club settled in the period, a bill for the net
// paid to its bank (ACCPAY, reference "Settlement <club> <reference date>", as the original queued it) and a
// sales invoice for the fee the federation kept (ACCREC, "fee recovery"). Coded through the mapping page:
// bills to the settlements payable's account, fee invoices to fee income's.
import { badInput } from "../../lib/errors";
import { formatPercent } from "../../lib/money";
import type { Payments } from "../payments/context";
import type { InvoiceLine } from "./formats";
import { checkPeriod } from "./journal";
import { type Mapping, mapper } from "./mappings";

export type InvoiceKind = "BILLS" | "SALES_INVOICES";

export async function settlementInvoices(
  p: Payments,
  kind: InvoiceKind,
  from: string,
  to: string,
  mapping: Mapping[],
): Promise<InvoiceLine[]> {
  checkPeriod(from, to);
  const ledgerAccount = kind === "BILLS" ? "SYSTEM:SETTLEMENTS_PAYABLE" : "SYSTEM:FEE_INCOME";
  const m = mapper(mapping)(ledgerAccount, "Settlement");
  if (!m)
    throw badInput(
      `Map ${ledgerAccount} on the mapping page before exporting ${kind === "BILLS" ? "bills" : "invoices"}.`,
    );
  const { rows } = await p.pool.query<{
    id: number;
    batch_id: number;
    name: string;
    ref_date: string;
    day: string;
    net: string;
    fee: string;
    fee_ppm: number;
    address: string | null;
    suburb: string | null;
    state: string | null;
    postcode: string | null;
  }>(
    `SELECT s.id, s.batch_id, o.name, to_char(s.reference_date, 'YYYY-MM-DD') AS ref_date,
            to_char((s.created_at AT TIME ZONE $3)::date, 'YYYY-MM-DD') AS day, s.net_cents::text AS net,
            s.fee_cents::text AS fee, s.fee_ppm, o.address_line1 AS address, o.suburb, o.state, o.postcode
       FROM settlements s JOIN organisations o ON o.id = s.organisation_id
      WHERE s.created_at >= ($1::date::timestamp AT TIME ZONE $3)
        AND s.created_at < (($2::date + 1)::timestamp AT TIME ZONE $3)
        AND ${kind === "BILLS" ? "s.net_cents" : "s.fee_cents"} > 0
      ORDER BY s.id`,
    [from, to, p.timeZone],
  );
  return rows.map((r) => ({
    contactName: r.name,
    addressLine1: r.address,
    city: r.suburb,
    region: r.state,
    postcode: r.postcode,
    invoiceNumber: `${kind === "BILLS" ? "SET" : "FEE"}-${r.id}`,
    reference: `Settlement ${r.name} ${r.ref_date}`,
    date: r.day,
    description:
      kind === "BILLS"
        ? `Settlement batch ${r.batch_id} for ${r.ref_date}: net bank transfer`
        : `Recovery of 3rd party transaction processing fees (${formatPercent(r.fee_ppm)}%)`,
    amountCents: BigInt(kind === "BILLS" ? r.net : r.fee),
    accountCode: m.accountCode,
    taxType: m.taxRateName,
  }));
}
