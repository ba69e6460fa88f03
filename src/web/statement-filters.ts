// The statement's filters (from, to, type, page position) as the pages send them in the query, shared by the
// member's statement, its downloads and finance's views of statements and date-ranged reports.
import { z } from "zod";
import { TRANSACTION_TYPES } from "../services/ledger/transaction-types";
import { fields, INT4_MAX, optional } from "./input";

const range = {
  from: optional(fields.date("From date")),
  to: optional(fields.date("To date")),
};
const inOrder = (q: { from?: string; to?: string }) => !q.from || !q.to || q.from <= q.to;
const ORDER = { message: "The start date must not be after the end date." };

/** A date range in the query (either end may be left out). */
export const dateRangeQuery = z.object(range).refine(inOrder, ORDER);

export const statementQuery = z
  .object({
    ...range,
    type: optional(fields.oneOf("Type", TRANSACTION_TYPES)),
    before: optional(fields.integer("Page position", INT4_MAX)),
  })
  .refine(inOrder, ORDER);

/** The filters as a query string for links (downloads, paging), without the page position. */
export function filterQuery(q: { from?: string; to?: string; type?: string }) {
  const params = new URLSearchParams();
  if (q.from) params.set("from", q.from);
  if (q.to) params.set("to", q.to);
  if (q.type) params.set("type", q.type);
  return params.toString();
}

/**
 * What a statement page's filter form, paging links and refusal message need (views/partials/statement-filters.njk
 * and statement-pages.njk), for the member's own page and finance's view of it alike.
 */
export function filterLocals(q: { from?: string; to?: string; type?: string }, error: string | null) {
  const filters = filterQuery(q);
  return { q, error, types: TRANSACTION_TYPES, filters, filtered: !!filters };
}

/** The period as a statement's heading says it. */
export function periodText(q: { from?: string; to?: string }) {
  if (q.from && q.to) return `${q.from} to ${q.to}`;
  if (q.from) return `from ${q.from}`;
  if (q.to) return `up to ${q.to}`;
  return "all transactions";
}
