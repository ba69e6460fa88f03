// The club's "Charge a session" page over HTTP, driven as rendered (the CSRF token, request id and the rows the
// preview carries are read from the HTML): bad rows by line number with nothing booked, a preview that books
// nothing, a confirmation with mixed outcomes (paid, auto top-up at the emulator, IOU, unknown, inactive), a
// form that books once however often it is sent (and never a different batch), the results CSV parsed back,
// and who may use each route.
import { parse } from "csv-parse/sync";
import type TestAgent from "supertest/lib/agent";
import { makeClub, makeUser, signIn } from "../helpers/app";
import { type CardStack, startCardStack } from "../helpers/card-stack";
import { CARDS, fundMember, ledgerSnapshot, saveCard, savedCardCharges, violations } from "../helpers/payments";
import { renderedForm } from "../helpers/rendered-form";

let s: CardStack;
let admin: { id: number };
let clubA: { id: number; clubNumber: string };
let clubB: { id: number; clubNumber: string };
let officerA: TestAgent;

beforeAll(async () => {
  s = await startCardStack({ maxConnections: 20 });
  admin = await makeUser(s.p.db);
  clubA = await makeClub(s.p.db, "Session Club");
  clubB = await makeClub(s.p.db, "Other Club");
  const officer = await makeUser(s.p.db, { level: "EDIT", orgId: clubA.id });
  officerA = (await signIn(s.app, officer.email)).agent;
});
afterAll(async () => {
  await s.p.ledger.close();
  await s.close();
});
afterEach(async () => expect(await violations(s.p)).toEqual([]));

const page = (orgId: number) => `/payments/club-session/${orgId}`;

const balanceOf = async (userId: number) =>
  (await s.p.db.account.findUnique({ where: { userId }, select: { balanceCents: true } }))?.balanceCents ?? 0n;

async function memberWith(cents: bigint, opts: { isActive?: boolean } = {}) {
  const u = await makeUser(s.p.db, opts);
  if (cents > 0n) await fundMember(s.p, u.id, cents, admin.id);
  return u;
}

/** Fills in the entry form as rendered and sends it to the preview. */
async function preview(agent: TestAgent, orgId: number, rows: string, reference = "") {
  const entry = await agent.get(page(orgId));
  expect(entry.status).toBe(200);
  const form = {
    ...renderedForm(entry.text, `${page(orgId)}/preview`),
    rows,
    description: "Table money 30 Nov",
    reference,
  };
  return agent
    .post(`${page(orgId)}/preview`)
    .type("form")
    .send(form);
}

const confirmForm = (html: string, orgId: number) => renderedForm(html, `${page(orgId)}/confirm`);

test("bad rows are reported by line number and nothing is booked", async () => {
  const m = await memberWith(5_000n);
  const before = await ledgerSnapshot(s.p);
  const rows = [
    "abf_number,amount,description",
    `${m.systemNumber},15.00,Table money`,
    "abc,10",
    "",
    `${m.systemNumber},-5`,
    `${m.systemNumber},12.345`,
    `${m.systemNumber},0`,
    `${m.systemNumber},"unclosed`,
    `${m.systemNumber},10,a,b`,
    `${m.systemNumber}`,
    `${m.systemNumber}, 7,50`,
    `${m.systemNumber}, 12,5`,
  ].join("\n");
  const res = await preview(officerA, clubA.id, rows);
  expect(res.status).toBe(400);
  const text = res.text.replace(/&quot;/g, '"');
  expect(text).toContain("Nothing was charged.");
  expect(text).toContain('Line 3: "abc" is not an ABF number.');
  expect(text).toContain("Line 5: the amount cannot be negative.");
  expect(text).toContain("Line 6: the amount can have at most two decimal places.");
  expect(text).toContain("Line 7: the amount must be more than zero.");
  expect(text).toContain("Line 8: a quote is not closed.");
  expect(text).toContain("Line 9: too many fields");
  expect(text).toContain("Line 10: the amount is required.");
  // A decimal comma split the amount: it booked $7.00 described "50".
  expect(text).toContain('Line 11: "7,50" looks like an amount written with a decimal comma: write 7.50');
  expect(text).toContain('Line 12: "12,5" looks like an amount written with a decimal comma: write 12.50');
  expect(text).not.toContain("Line 2:");
  // The entry form comes back with what was typed, and no confirm form.
  expect(renderedForm(res.text, `${page(clubA.id)}/preview`).rows).toBe(rows);
  expect(res.text).not.toContain(`${page(clubA.id)}/confirm`);

  // A confirm form carrying bad rows (changed after its preview) is refused the same way.
  const good = await preview(officerA, clubA.id, `${m.systemNumber},15`);
  const form = { ...confirmForm(good.text, clubA.id), rows: `${m.systemNumber},15\n${m.systemNumber},x` };
  const refused = await officerA
    .post(`${page(clubA.id)}/confirm`)
    .type("form")
    .send(form);
  expect(refused.status).toBe(400);
  expect(refused.text).toContain("Line 2: the amount must be a number of dollars and cents");
  expect(await ledgerSnapshot(s.p)).toBe(before);
  expect(await s.p.db.sessionChargeBatch.count({ where: { organisationId: clubA.id } })).toBe(0);
});

test("preview books nothing; confirm charges each row once with mixed outcomes; results page and CSV", async () => {
  const paid = await memberWith(2_000n);
  const topped = await memberWith(100n);
  await saveCard(s, topped.id, CARDS.ok, 5_000n);
  const owes = await memberWith(300n);
  const inactive = await memberWith(5_000n, { isActive: false });
  const unknown = 999_999_997;
  const rows = [
    "abf_number,amount,description",
    `${paid.systemNumber},15.00,`,
    `${topped.systemNumber}\t15`,
    `${owes.systemNumber} 12.50 Visitor, late`,
    `${unknown},15`,
    `${inactive.systemNumber},15,"Table money, ""B"" section"`,
  ].join("\r\n");
  const before = await ledgerSnapshot(s.p);
  const shown = await preview(officerA, clubA.id, rows, "Monday pairs 30/11");
  expect(shown.status).toBe(200);
  expect(shown.headers["cache-control"]).toBe("no-store");
  const outcomes = [...shown.text.matchAll(/<tr data-outcome="(\w+)"><td>(\d+)<\/td>/g)].map((m) => [m[2], m[1]]);
  expect(outcomes).toEqual([
    ["2", "pays"],
    ["3", "tops_up"],
    ["4", "iou"],
    ["5", "unknown_member"],
    ["6", "inactive_member"],
  ]);
  expect(shown.text).toContain("Visitor, late");
  // Club officers see what will happen, never members' balances.
  expect(shown.text).not.toContain("$20.00");
  expect(await ledgerSnapshot(s.p)).toBe(before);
  expect(savedCardCharges(s.emulator, topped.id)).toHaveLength(0);

  const form = confirmForm(shown.text, clubA.id);
  expect(form.rows).toBe(rows.replace(/\r\n/g, "\n")); // the browser sends the lines as it got them
  const done = await officerA
    .post(`${page(clubA.id)}/confirm`)
    .type("form")
    .send(form);
  expect(done.status).toBe(302);
  const resultsUrl = done.headers.location as string;
  expect(resultsUrl).toMatch(new RegExp(`^${page(clubA.id)}/batch/\\d+$`));

  expect(await balanceOf(paid.id)).toBe(500n);
  expect(await balanceOf(topped.id)).toBe(3_600n); // 100 + 5,000 top-up − 1,500
  expect(savedCardCharges(s.emulator, topped.id)).toHaveLength(1);
  expect(await balanceOf(owes.id)).toBe(300n);
  expect(await balanceOf(inactive.id)).toBe(5_000n);
  const ious = await s.p.db.iou.findMany({ where: { systemNumber: owes.systemNumber, organisationId: clubA.id } });
  expect(ious.map((i) => [i.amountCents, i.description])).toEqual([[1_250n, "Visitor, late"]]);
  expect((await s.p.db.account.findUniqueOrThrow({ where: { organisationId: clubA.id } })).balanceCents).toBe(3_000n);
  // The charges are the API's charge records, made by the batch (no key), with the session's reference.
  const batchId = Number(resultsUrl.split("/").pop());
  const charges = await s.p.db.apiCharge.findMany({
    where: { sessionBatchId: batchId },
    orderBy: { chargeKey: "asc" },
  });
  expect(charges.map((c) => [c.chargeKey, c.status, c.apiKeyId, c.reference])).toEqual([
    [`session:${batchId}:0`, "succeeded", null, "Monday pairs 30/11"],
    [`session:${batchId}:1`, "succeeded", null, "Monday pairs 30/11"],
    [`session:${batchId}:2`, "iou", null, "Monday pairs 30/11"],
  ]);

  const results = await officerA.get(resultsUrl);
  expect(results.status).toBe(200);
  const resultRows = [...results.text.matchAll(/<tr data-outcome="(\w+)"><td>(\d+)<\/td>/g)].map((m) => [m[2], m[1]]);
  expect(resultRows).toEqual([
    ["2", "paid"],
    ["3", "topped_up"],
    ["4", "iou"],
    ["5", "unknown_member"],
    ["6", "inactive_member"],
  ]);
  expect(results.text).toMatch(/id="collected">\$30\.00</);
  expect(results.text).toMatch(/id="iou-total">\$12\.50</);

  const csv = await officerA.get(`${resultsUrl}/csv`);
  expect(csv.status).toBe(200);
  expect(csv.headers["content-type"]).toMatch(/^text\/csv/);
  const day = new Intl.DateTimeFormat("en-CA", { timeZone: "Australia/Sydney" }).format(new Date());
  expect(csv.headers["content-disposition"]).toBe(
    `attachment; filename="session-charges-${clubA.clubNumber.toLowerCase()}-${day}-${batchId}.csv"`,
  );
  const table = parse(csv.text, { columns: true }) as Record<string, string>[];
  expect(Object.keys(table[0]!)).toEqual([
    "line",
    "abf_number",
    "name",
    "amount",
    "description",
    "result",
    "charge",
    "posting_reference",
    "top_up",
    "iou",
    "message",
  ]);
  expect(table.map((r) => [r.line, r.abf_number, r.amount, r.description, r.result, r.top_up])).toEqual([
    ["2", String(paid.systemNumber), "15.00", "Table money 30 Nov", "paid", ""],
    ["3", String(topped.systemNumber), "15.00", "Table money 30 Nov", "topped_up", "50.00"],
    ["4", String(owes.systemNumber), "12.50", "Visitor, late", "iou", ""],
    ["5", String(unknown), "15.00", "Table money 30 Nov", "unknown_member", ""],
    ["6", String(inactive.systemNumber), "15.00", 'Table money, "B" section', "inactive_member", ""],
  ]);
  expect(table[0]!.charge).toBe(`ch_${charges[0]!.id}`);
  expect(table[0]!.posting_reference).not.toBe("");
  expect(table[2]!.iou).toBe(`iou_${ious[0]!.id}`);
  expect(table[3]!.message).toContain(String(unknown));
});

test("the confirm form books once: sent again, or twice at once, and it cannot book a different batch", async () => {
  const m = await memberWith(10_000n);
  const n = await memberWith(0n);
  const rows = `${m.systemNumber},20\n${n.systemNumber},7.50`;
  const form = confirmForm((await preview(officerA, clubA.id, rows)).text, clubA.id);

  // Twice at once (a double click), then once more later (Back and submit again).
  const [a, b] = await Promise.all([
    officerA
      .post(`${page(clubA.id)}/confirm`)
      .type("form")
      .send(form),
    officerA
      .post(`${page(clubA.id)}/confirm`)
      .type("form")
      .send(form),
  ]);
  expect([a.status, b.status]).toEqual([302, 302]);
  expect(a.headers.location).toBe(b.headers.location);
  const again = await officerA
    .post(`${page(clubA.id)}/confirm`)
    .type("form")
    .send(form);
  expect(again.headers.location).toBe(a.headers.location);
  const shown = await officerA.get(again.headers.location as string);
  expect(shown.text).toContain("These charges were already booked: nothing new was charged.");
  expect(await balanceOf(m.id)).toBe(8_000n);
  expect(await s.p.db.iou.count({ where: { systemNumber: n.systemNumber } })).toBe(1);
  const batchId = Number((a.headers.location as string).split("/").pop());
  expect(await s.p.db.apiCharge.count({ where: { sessionBatchId: batchId } })).toBe(2);

  // The same form (its request id) carrying other rows is refused, and books nothing.
  const before = await ledgerSnapshot(s.p);
  const other = await officerA
    .post(`${page(clubA.id)}/confirm`)
    .type("form")
    .send({ ...form, rows: `${m.systemNumber},99` });
  expect(other.status).toBe(400);
  expect(other.text).toContain("This form was already used to charge a different session.");
  expect(await ledgerSnapshot(s.p)).toBe(before);
  expect(await balanceOf(m.id)).toBe(8_000n);
});

test("who may use it: the club's editors and finance editors; not another club's officer, viewers or members", async () => {
  const m = await memberWith(5_000n);
  const rows = `${m.systemNumber},5`;
  // Club A's officer charges a session; its results stay club A's.
  const done = await officerA
    .post(`${page(clubA.id)}/confirm`)
    .type("form")
    .send(confirmForm((await preview(officerA, clubA.id, rows)).text, clubA.id));
  const resultsUrl = done.headers.location as string;
  const batchId = resultsUrl.split("/").pop();

  // Club B's officer: refused on club A's routes, and club A's batch is not found under club B.
  const officerB = (await signIn(s.app, (await makeUser(s.p.db, { level: "EDIT", orgId: clubB.id })).email)).agent;
  const viewerA = (await signIn(s.app, (await makeUser(s.p.db, { level: "VIEW", orgId: clubA.id })).email)).agent;
  const member = (await signIn(s.app, (await makeUser(s.p.db)).email)).agent;
  const tokenOf = async (agent: TestAgent) => renderedForm((await agent.get("/dashboard")).text, "/logout")._csrf!;
  const before = await ledgerSnapshot(s.p);
  for (const agent of [officerB, viewerA, member]) {
    const token = await tokenOf(agent);
    expect((await agent.get(page(clubA.id))).status).toBe(403);
    for (const path of ["", "/preview", "/confirm"]) {
      const res = await agent
        .post(`${page(clubA.id)}${path}`)
        .type("form")
        .send({ _csrf: token, rows, description: "x", request_id: "r-12345678" });
      expect(res.status).toBe(403);
    }
    expect((await agent.get(resultsUrl)).status).toBe(403);
    expect((await agent.get(`${resultsUrl}/csv`)).status).toBe(403);
  }
  expect((await officerB.get(`${page(clubB.id)}/batch/${batchId}`)).status).toBe(404);
  expect((await officerB.get(`${page(clubB.id)}/batch/${batchId}/csv`)).status).toBe(404);
  expect(await ledgerSnapshot(s.p)).toBe(before);

  // Anonymous visitors are sent to sign in.
  const anon = await (await import("supertest")).default(s.app).get(page(clubA.id));
  expect(anon.status).toBe(302);
  expect(anon.headers.location).toMatch(/^\/login\?next=/);

  // The club page links to it for the club's editors only; finance editors may use it for any club.
  expect((await officerA.get(`/payments/statement-org/${clubA.id}`)).text).toContain(`href="${page(clubA.id)}"`);
  expect((await viewerA.get(`/payments/statement-org/${clubA.id}`)).text).not.toContain(`href="${page(clubA.id)}"`);
  const finance = (await signIn(s.app, (await makeUser(s.p.db, { level: "EDIT" })).email)).agent;
  expect((await finance.get(page(clubB.id))).status).toBe(200);
  expect((await finance.get(resultsUrl)).status).toBe(200);
  const financePreview = await preview(finance, clubB.id, rows);
  expect(financePreview.status).toBe(200);
});
