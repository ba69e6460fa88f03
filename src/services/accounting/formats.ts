// The files of the accounting export, as rows of cells (money formatted here, at the edge, from integer cents).
// Column lists are exactly the import templates' (sources in docs/accounting-export.md and the tests).
import { plainAmount } from "../../lib/money";
import type { Journal } from "./journal";

type Cell = string | { raw: string };
const amount = (cents: bigint) => ({ raw: plainAmount(cents) });
/** Xero's import dates: dd/mm/yyyy. */
export const xeroDate = (iso: string) => `${iso.slice(8, 10)}/${iso.slice(5, 7)}/${iso.slice(0, 4)}`;

/** Xero's Manual Journal import template (help.xero.com/nz/ManualJournalsImport): "*" marks a required column. */
export const XERO_JOURNAL_COLUMNS = [
  "*Narration",
  "*Date",
  "Description",
  "*AccountCode",
  "*TaxRate",
  "*Amount",
  "TrackingName1",
  "TrackingOption1",
  "TrackingName2",
  "TrackingOption2",
] as const;

/** Xero reads a positive amount as a debit and a negative one as a credit; amounts are tax inclusive. */
export function* xeroJournalRows(j: Journal): Generator<Cell[]> {
  yield [...XERO_JOURNAL_COLUMNS];
  for (const day of j.days) {
    for (const l of day.lines) {
      yield [
        `Bridge Credits ledger ${day.date}`,
        xeroDate(day.date),
        l.description,
        l.accountCode,
        l.taxRateName,
        amount(-l.amountCents),
        "",
        "",
        "",
        "",
      ];
    }
  }
}

export const GL_COLUMNS = ["Date", "Account Code", "Description", "Debit", "Credit", "Tax"] as const;

/** The plain general ledger: one side filled per line; Tax is the tax included in that side's amount. */
export function* generalLedgerRows(j: Journal): Generator<Cell[]> {
  yield [...GL_COLUMNS];
  for (const day of j.days) {
    for (const l of day.lines) {
      yield [
        day.date,
        l.accountCode,
        l.description,
        l.debitCents ? amount(l.debitCents) : "",
        l.creditCents ? amount(l.creditCents) : "",
        amount(l.taxCents < 0n ? -l.taxCents : l.taxCents),
      ];
    }
  }
}

/** Xero's sales invoice import template (also used for bills: the same columns in the same order). */
export const XERO_INVOICE_COLUMNS = [
  "*ContactName",
  "EmailAddress",
  "POAddressLine1",
  "POAddressLine2",
  "POAddressLine3",
  "POAddressLine4",
  "POCity",
  "PORegion",
  "POPostalCode",
  "POCountry",
  "*InvoiceNumber",
  "Reference",
  "*InvoiceDate",
  "*DueDate",
  "InventoryItemCode",
  "*Description",
  "*Quantity",
  "*UnitAmount",
  "Discount",
  "*AccountCode",
  "*TaxType",
  "TrackingName1",
  "TrackingOption1",
  "TrackingName2",
  "TrackingOption2",
  "Currency",
  "BrandingTheme",
] as const;

export interface InvoiceLine {
  contactName: string;
  addressLine1: string | null;
  city: string | null;
  region: string | null;
  postcode: string | null;
  invoiceNumber: string;
  reference: string;
  date: string;
  description: string;
  amountCents: bigint;
  accountCode: string;
  taxType: string;
}

export function* xeroInvoiceRows(lines: InvoiceLine[]): Generator<Cell[]> {
  yield [...XERO_INVOICE_COLUMNS];
  for (const l of lines) {
    yield [
      l.contactName,
      "",
      l.addressLine1 ?? "",
      "",
      "",
      "",
      l.city ?? "",
      l.region ?? "",
      l.postcode ?? "",
      l.addressLine1 ? "Australia" : "",
      l.invoiceNumber,
      l.reference,
      xeroDate(l.date),
      xeroDate(l.date),
      "",
      l.description,
      "1",
      amount(l.amountCents),
      "",
      l.accountCode,
      l.taxType,
      "",
      "",
      "",
      "",
      "AUD",
      "",
    ];
  }
}
