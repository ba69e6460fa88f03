// Settlement set-ups shared by the service, page and browser tests: the federation's Direct Entry details (a new
// payment settings version, as finance would save), and clubs funded on given days (postings dated in the past, in
// order, so balances at the end of a reference date are real history).
import type TestAgent from "supertest/lib/agent";
import type { Db } from "../../src/db/client";
import type { Payments } from "../../src/services/payments/context";
import { makeClub } from "./app";
import { renderedForm } from "./forms";
import { key } from "./payments";

/** The federation's Direct Entry details the tests settle with. */
export const DIRECT_ENTRY = {
  abaBankCode: "WBC",
  abaUserId: "482913",
  federationBsb: "032001",
  federationAccount: "556677",
};

export async function setDirectEntry(db: Db, details: Record<string, string | null> = DIRECT_ENTRY) {
  const {
    id: _id,
    createdAt: _at,
    ...current
  } = await db.paymentSettings.findFirstOrThrow({ orderBy: { id: "desc" } });
  await db.paymentSettings.create({ data: { ...current, ...details } });
}

/** Credits (or, negative, debits) a club at a given moment, as a dated manual adjustment. */
export async function bookForClub(p: Payments, organisationId: number, cents: bigint, at?: string) {
  const club = await p.accounts.forOrganisation(organisationId);
  const adj = await p.accounts.forSystem("ADJUSTMENTS");
  const r = await p.ledger.post({
    idempotencyKey: key("dated"),
    type: "Manual Adjustment",
    description: "Dated test adjustment",
    ...(at ? { at: new Date(at) } : {}),
    entries: [
      { accountId: club, amountCents: cents, counterparty: 1 },
      { accountId: adj, amountCents: -cents, counterparty: 0 },
    ],
  });
  if (r.status !== "POSTED") throw new Error(`dated adjustment not booked: ${r.status}`);
}

/** A club with bank details, a minimum balance and a history of dated credits. */
export async function clubWithHistory(
  p: Payments,
  history: [at: string, cents: bigint][],
  opts: { name?: string; minCents?: bigint; bsb?: string | null; account?: string | null } = {},
) {
  const c = await makeClub(p.db, opts.name ?? "Settle");
  await p.db.organisation.update({
    where: { id: c.id },
    data: {
      bankBsb: opts.bsb === undefined ? "062000" : opts.bsb,
      bankAccount: opts.account === undefined ? "12345678" : opts.account,
      minBalanceAfterSettlementCents: opts.minCents ?? 10_000n,
    },
  });
  for (const [at, cents] of history) await bookForClub(p, c.id, cents, at);
  return c;
}

/** Settles the clubs for `referenceDate` through the settlement page, as rendered; answers the batch id. */
export async function settleThroughPage(agent: TestAgent, referenceDate: string, ids: number[]) {
  const page = await agent.get(`/payments/settlement?reference_date=${referenceDate}`);
  const form = renderedForm(page.text, "settlement-form");
  for (const id of ids) form[`org_${id}`] = "on";
  const done = await agent
    .post("/payments/settlement")
    .type("form")
    .send({ ...form, action: "confirm" });
  if (done.status !== 302) throw new Error(`settlement not confirmed: ${done.status}`);
  return Number(done.headers.location!.split("/").at(-1));
}
