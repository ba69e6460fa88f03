// The dashboard's data in one query on the pool: balance, last top-up, auto top-up, the member's IOUs, the clubs
// whose statements they may see and their latest statement lines. The dashboard is the page members open most;
// this was eight queries (five through Prisma, each compiled by its query compiler), and the page ran at a small
// fraction of the framework's ceiling (bench:http, docs/performance.md).
import { notFound } from "../../lib/errors";
import { splitStatementRows, type WithLines, withStatementRows } from "../ledger/statement-rows";
import { TOP_UP_TYPES_SQL } from "../ledger/transaction-types";
import type { Payments } from "./context";
import { namedQuery } from "../../db/named-query";

/** Statement lines the dashboard shows. */
export const RECENT_LINES = 5;

const SQL = `
  SELECT a.id AS account_id, a.balance_cents::text AS balance_cents, u.auto_top_up_status::text AS auto_status,
         u.auto_top_up_amount_cents::text AS auto_amount,
         -- One index probe per top-up type, however long the statement.
         (SELECT max(e.created_at)
            FROM unnest(ARRAY[${TOP_UP_TYPES_SQL}]) AS t(type)
            CROSS JOIN LATERAL (SELECT created_at FROM entries
                                 WHERE account_id = a.id AND type = t.type AND type IN (${TOP_UP_TYPES_SQL})
                                 ORDER BY entry_no DESC LIMIT 1) e) AS last_top_up_at,
         (SELECT coalesce(json_agg(json_build_object('id', i.id, 'description', i.description,
                                                     'amount', i.amount_cents::text, 'createdAt', i.created_at,
                                                     'organisationId', o.id, 'organisationName', o.name)
                                   ORDER BY i.created_at), '[]')
            FROM ious i JOIN organisations o ON o.id = i.organisation_id
           WHERE i.system_number = u.system_number) AS ious,
         (SELECT coalesce(json_agg(json_build_object('id', o.id, 'name', o.name) ORDER BY o.name), '[]')
            FROM organisations o WHERE o.id = ANY($2::int[])) AS clubs
    FROM users u JOIN accounts a ON a.user_id = u.id
   WHERE u.id = $1`;

interface Row {
  balance_cents: string;
  auto_status: "OFF" | "PENDING" | "ON" | "FAILED";
  auto_amount: string | null;
  last_top_up_at: Date | null;
  ious: {
    id: number;
    description: string;
    amount: string;
    createdAt: string;
    organisationId: number;
    organisationName: string;
  }[];
  clubs: { id: number; name: string }[];
}

/** The dashboard's query, as text and parameters (the plan test reads its plan). */
export function memberDashboardQuery(userId: number, clubIds: number[]) {
  const values: unknown[] = [userId, clubIds];
  return { text: withStatementRows(SQL, { limit: RECENT_LINES }, values), values };
}

/** `clubIds`: the organisations the member holds a role for (their statements are linked, by name). */
export async function memberDashboard(p: Payments, userId: number, clubIds: number[]) {
  const { text, values } = memberDashboardQuery(userId, clubIds);
  const { header: r, lines } = splitStatementRows((await namedQuery<WithLines<Row>>(p.pool, text, values)).rows);
  if (!r) throw notFound("That member does not exist.");
  return {
    clubs: r.clubs,
    recent: lines,
    balance: { balanceCents: BigInt(r.balance_cents), lastTopUpAt: r.last_top_up_at },
    auto: {
      autoTopUpStatus: r.auto_status,
      autoTopUpAmountCents: r.auto_amount === null ? null : BigInt(r.auto_amount),
    },
    ious: r.ious.map((i) => ({
      id: i.id,
      description: i.description,
      amountCents: BigInt(i.amount),
      createdAt: new Date(i.createdAt),
      organisation: { id: i.organisationId, name: i.organisationName },
    })),
  };
}
