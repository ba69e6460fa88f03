// The member's statement (reference §2 rows 1, 15, 23, 25): the page (filters, keyset paging, card details,
// refund action), the CSV and the PDF, all with the same filters.
import { PassThrough } from "node:stream";
import { Router } from "express";
import { requireLogin } from "../../auth/guards";
import { TRANSACTION_TYPES } from "../../services/ledger/transaction-types";
import type { Payments } from "../../services/payments/context";
import {
  allStatementRows,
  memberStatementPage,
  parseStatementQuery,
  type StatementQuery,
} from "../../services/statements/member-statement";
import { writeStatementCsv } from "../../services/statements/statement-csv";
import { writeStatementPdf } from "../../services/statements/statement-pdf";
import { attachment, statementFileName } from "../../web/download-name";

function filterQuery(q: StatementQuery) {
  const params = new URLSearchParams();
  if (q.from) params.set("from", q.from);
  if (q.to) params.set("to", q.to);
  if (q.type) params.set("type", q.type);
  return params.toString();
}

function period(q: StatementQuery) {
  if (q.from && q.to) return `${q.from} to ${q.to}`;
  if (q.from) return `from ${q.from}`;
  if (q.to) return `up to ${q.to}`;
  return "all transactions";
}

export function statementRoutes(deps: { payments: Payments }) {
  const p = deps.payments;
  const r = Router();

  r.get(["/payments", "/payments/statement"], requireLogin, async (req, res) => {
    const user = req.user!;
    let q: StatementQuery;
    let error: string | null = null;
    try {
      q = parseStatementQuery(req.query);
    } catch (e) {
      q = { type: undefined, before: undefined };
      error = (e as Error).message;
    }
    const [page, auto] = await Promise.all([
      memberStatementPage(p, user.id, q),
      p.db.user.findUniqueOrThrow({
        where: { id: user.id },
        select: { autoTopUpStatus: true, autoTopUpAmountCents: true },
      }),
    ]);
    const filters = filterQuery(q);
    res.status(error ? 400 : 200).render("players/statement", {
      ...page,
      auto,
      q,
      error,
      types: TRANSACTION_TYPES,
      filters,
      filtered: !!filters,
    });
  });

  r.get("/payments/statement-csv", requireLogin, async (req, res) => {
    const user = req.user!;
    const q = parseStatementQuery(req.query);
    const accountId = await p.accounts.forUser(user.id);
    res.setHeader("Content-Type", "text/csv; charset=utf-8");
    attachment(res, statementFileName([user.systemNumber], q, p.timeZone, "csv"));
    await writeStatementCsv(res, p.timeZone, allStatementRows(p, accountId, q));
  });

  r.get("/payments/statement-pdf", requireLogin, async (req, res) => {
    const user = req.user!;
    const q = parseStatementQuery(req.query);
    const accountId = await p.accounts.forUser(user.id);
    // Built in memory first (PDFs are small), so a refusal (too many lines) can still be a proper error page.
    const chunks: Buffer[] = [];
    const sink = new PassThrough();
    sink.on("data", (c: Buffer) => chunks.push(c));
    await writeStatementPdf(
      sink,
      {
        name: `${user.firstName} ${user.lastName}`,
        systemNumber: user.systemNumber,
        period: period(q),
        timeZone: p.timeZone,
        generatedAt: new Date(),
      },
      allStatementRows(p, accountId, q),
    );
    res.setHeader("Content-Type", "application/pdf");
    attachment(res, statementFileName([user.systemNumber], q, p.timeZone, "pdf"));
    res.send(Buffer.concat(chunks));
  });
  return r;
}
