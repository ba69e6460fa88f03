// One posting, one type: a club's transfer to a member is "Org Transfer" on both sides — the member's statement
// (page, CSV, PDF, the finance view's CSV), the club's statement (page, summary, CSV) and the reconciliation
// export — and rows written before with two names are corrected by the migration.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse } from "csv-parse/sync";
import type TestAgent from "supertest/lib/agent";
import { adjustOrganisationBalance } from "../../src/services/payments/manual-adjustment";
import { orgToMemberTransfer } from "../../src/services/payments/org-to-member-transfer";
import { makeClub, makeUser, signIn } from "../helpers/app";
import { type CardStack, startCardStack } from "../helpers/card-stack";
import { binary, todayIn } from "../helpers/downloads";
import { key } from "../helpers/payments";
import { renderedForm } from "../helpers/rendered-form";

let s: CardStack;
beforeAll(async () => {
  s = await startCardStack();
});
afterAll(() => s.close());

const today = () => todayIn(s.p.timeZone);
const text = async (agent: TestAgent, url: string) => (await agent.get(url).buffer(true)).text;
/** The Type cell of the CSV line whose Description is `description`. */
const csvType = (csv: string, description: string) => {
  const rows = parse(csv, { relax_column_count: true }) as string[][];
  const head = rows.find((r) => r.includes("Type") && r.includes("Description"))!;
  const line = rows.find((r) => r[head.indexOf("Description")] === description)!;
  return line[head.indexOf("Type")];
};

test("a club's transfer to a member shows one type, Org Transfer, everywhere it is shown", async () => {
  const club = await makeClub(s.p.db, "Prize Club");
  const officer = await makeUser(s.p.db, { level: "EDIT", orgId: club.id });
  const finance = await makeUser(s.p.db, { level: "VIEW" });
  const member = await makeUser(s.p.db, { firstName: "Winner" });
  await adjustOrganisationBalance(s.p, {
    organisationId: club.id,
    amountCents: 10_000n,
    description: "Opening balance",
    actorUserId: finance.id,
    idempotencyKey: key(),
  });

  const o = (await signIn(s.app, officer.email)).agent;
  const page = await o.get(`/payments/member-transfer-org/${club.id}`);
  const form = renderedForm(page.text, `/payments/member-transfer-org/${club.id}`);
  const sent = await o
    .post(`/payments/member-transfer-org/${club.id}`)
    .type("form")
    .send({ ...form, abf: String(member.systemNumber), amount: "25", description: "Pairs prize" });
  expect(sent.status).toBe(302);

  const entries = await s.p.db.entry.findMany({ where: { amountCents: { in: [2_500n, -2_500n] } } });
  expect(entries.map((e) => e.type)).toEqual(["Org Transfer", "Org Transfer"]);

  // The member's statement page and the club's: the transfer's row names the type.
  const m = (await signIn(s.app, member.email)).agent;
  const rowType = (html: string) => {
    const row = html.split(/<tr>/).find((r) => r.includes("Pairs prize"))!;
    return ["Org Transfer", "Member Transfer"].filter((ty) => row.includes(ty));
  };
  expect(rowType(await text(m, "/payments/statement"))).toEqual(["Org Transfer"]);
  const clubPage = await text(o, `/payments/statement-org/${club.id}`);
  expect(rowType(clubPage)).toEqual(["Org Transfer"]);
  // Nor in the club's summary by type (the type filter's list of every type aside).
  expect(clubPage.replace(/<select id="type"[\s\S]*?<\/select>/, "")).not.toContain("Member Transfer");

  // CSVs: the member's, the finance view of the member's, the club's, the reconciliation export.
  expect(csvType(await text(m, "/payments/statement-csv"), "Pairs prize")).toBe("Org Transfer");
  const f = (await signIn(s.app, finance.email)).agent;
  expect(csvType(await text(f, `/payments/statement-csv/${member.id}`), "Pairs prize")).toBe("Org Transfer");
  expect(csvType(await text(o, `/payments/statement-csv-org/${club.id}`), "Pairs prize")).toBe("Org Transfer");
  const rec = renderedForm((await f.get("/payments/admin-stripe-rec")).text, "/payments/admin-stripe-rec-download");
  const recCsv = (
    await f
      .post("/payments/admin-stripe-rec-download")
      .type("form")
      .send({ ...rec, ref_date: today() })
      .buffer(true)
  ).text;
  const recRows = (parse(recCsv, { relax_column_count: true }) as string[][]).filter((r) => r.includes("Pairs prize"));
  expect(recRows.map((r) => r[4])).toEqual(["Org Transfer", "Org Transfer"]);

  // The PDF's text.
  const pdf = await m.get("/payments/statement-pdf").buffer(true).parse(binary);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pdf-"));
  fs.writeFileSync(path.join(dir, "s.pdf"), pdf.body as Buffer);
  const pdfText = execFileSync("pdftotext", ["-layout", path.join(dir, "s.pdf"), "-"], { encoding: "utf8" });
  expect(pdfText.split("\n").find((l) => l.includes("Pairs prize"))).toContain("Org Transfer");
});

test("the migration gives rows booked with two names their posting's one type", async () => {
  const club = await makeClub(s.p.db, "Old Club");
  const member = await makeUser(s.p.db);
  const p = s.p;
  await adjustOrganisationBalance(p, {
    organisationId: club.id,
    amountCents: 5_000n,
    description: "Opening balance",
    actorUserId: member.id,
    idempotencyKey: key(),
  });
  const { postingId } = await orgToMemberTransfer(p, {
    organisationId: club.id,
    toUserId: member.id,
    amountCents: 1_000n,
    description: "Old prize",
    actorUserId: member.id,
    idempotencyKey: key(),
  });
  // As the old engine wrote it: the club's side named "Member Transfer".
  const orgAccount = await p.accounts.forOrganisation(club.id);
  await s.p.db.$transaction([
    s.p.db.$executeRawUnsafe("ALTER TABLE entries DISABLE TRIGGER entries_append_only"),
    s.p.db
      .$executeRaw`UPDATE entries SET type = 'Member Transfer' WHERE posting_id = ${postingId} AND account_id = ${orgAccount}`,
    s.p.db.$executeRawUnsafe("ALTER TABLE entries ENABLE TRIGGER entries_append_only"),
  ]);
  const violations = async () => s.p.db.$queryRaw<{ rule: string }[]>`SELECT rule FROM ledger_violations()`;
  expect((await violations()).map((v) => v.rule)).toEqual(["entry type differs from its posting's"]);

  const migration = fs.readFileSync(
    path.join(__dirname, "../../prisma/migrations/20261130030000_one_type_per_posting/migration.sql"),
    "utf8",
  );
  await s.database.pool.query(migration);
  const types = await s.p.db.entry.findMany({ where: { postingId }, select: { type: true } });
  expect(types.map((e) => e.type)).toEqual(["Org Transfer", "Org Transfer"]);
  expect(await violations()).toEqual([]);
  await expect(s.p.db.$executeRaw`UPDATE entries SET type = 'Refund' WHERE posting_id = ${postingId}`).rejects.toThrow(
    /append-only/,
  );
});
