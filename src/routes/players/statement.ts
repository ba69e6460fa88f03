// The member's statement (reference §2 rows 1, 15, 23, 25): the page (filters, keyset paging, card details,
// refund action), the CSV and the PDF, all with the same filters.
import type { Request, Response } from "express";
import { requireLogin } from "../../auth/guards";
import { forReading, type Payments } from "../../services/payments/context";
import {
  allStatementRows,
  autoTopUpOf,
  memberStatementPage,
  type StatementQuery,
} from "../../services/statements/member-statement";
import { statementCsvQuery } from "../../services/statements/statement-csv";
import { statementPdf } from "../../services/statements/statement-pdf";
import { sendCopyCsv } from "../../web/csv-response";
import { attachment, statementFileName } from "../../web/download-name";
import { inputRouter } from "../../web/input";
import { filterLocals, periodText, statementQuery } from "../../web/statement-filters";

export function statementRoutes(deps: { payments: Payments }) {
  const p = deps.payments;
  // Statements and their files read through DATABASE_READ_URL when it is set.
  const rp = forReading(p);
  const r = inputRouter();

  const page = async (req: Request, res: Response, q: StatementQuery, error: string | null) => {
    const user = req.user!;
    // One query; with a read replica, the auto top-up (which the member may just have changed) from the primary.
    const [page, auto] = await Promise.all([
      memberStatementPage(rp, user.id, q),
      rp === p ? null : autoTopUpOf(p.pool, user.id),
    ]);
    res.status(error ? 400 : 200).render("players/statement", {
      ...page,
      auto: auto ?? page.auto,
      ...filterLocals(q, error),
    });
  };
  // Bad filters show the whole statement with the message, rather than an error page.
  r.get(
    ["/payments", "/payments/statement"],
    { guard: requireLogin, query: statementQuery, invalid: (req, res, message) => page(req, res, {}, message) },
    (req, res, { query }) => page(req, res, query, null),
  );

  r.get("/payments/statement-csv", { guard: requireLogin, query: statementQuery }, async (req, res, { query: q }) => {
    const user = req.user!;
    const accountId = await p.accounts.forUser(user.id);
    await sendCopyCsv(
      req,
      res,
      rp.pool,
      statementFileName([user.systemNumber], q, p.timeZone, "csv"),
      statementCsvQuery(accountId, p.timeZone, q),
    );
  });

  r.get("/payments/statement-pdf", { guard: requireLogin, query: statementQuery }, async (req, res, { query: q }) => {
    const user = req.user!;
    const accountId = await p.accounts.forUser(user.id);
    const pdf = await statementPdf(
      {
        name: `${user.firstName} ${user.lastName}`,
        identity: `ABF ${user.systemNumber}`,
        period: periodText(q),
        timeZone: p.timeZone,
        generatedAt: new Date(),
      },
      allStatementRows(rp, accountId, q),
    );
    res.setHeader("Content-Type", "application/pdf");
    attachment(res, statementFileName([user.systemNumber], q, p.timeZone, "pdf"));
    res.send(pdf);
  });
  return r.router;
}
