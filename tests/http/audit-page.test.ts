// The audit page (/payments/audit): finance staff see every row, filter by who, action, target and dates, page
// through, and download the same rows as CSV (header first, parsed back here); a club officer sees only their
// club's rows (club A's officer never club B's); members and anonymous visitors are turned away.
import { parse } from "csv-parse/sync";
import request from "supertest";
import type TestAgent from "supertest/lib/agent";
import { recordAudit } from "../../src/services/audit/record";
import { makeClub, makeUser, signIn, startTestApp, type TestApp } from "../helpers/app";
import { renderedForm } from "../helpers/rendered-form";

let t: TestApp;
let viewer: TestAgent;
let officerA: TestAgent;
let clubA: { id: number };
let clubB: { id: number };
let finance: { id: number };

beforeAll(async () => {
  t = await startTestApp();
  clubA = await makeClub(t.db, "Alpha");
  clubB = await makeClub(t.db, "Bravo");
  finance = await makeUser(t.db, { level: "EDIT", firstName: "Fiona" });
  viewer = (await signIn(t.app, (await makeUser(t.db, { level: "VIEW" })).email)).agent;
  officerA = (await signIn(t.app, (await makeUser(t.db, { level: "VIEW", orgId: clubA.id })).email)).agent;
  const row = (action: string, orgId: number | null, targetId: number, at: string) =>
    t.db.$transaction(async (tx) => {
      await recordAudit(tx, {
        actorId: finance.id,
        action,
        targetType: "organisation",
        targetId,
        orgId,
        after: { note: `${action} ${at}` },
        requestId: `req-${action}-${at}`,
        clientIp: "203.0.113.9",
      });
    });
  await row("adjustment.org", clubA.id, clubA.id, "a");
  await row("adjustment.org", clubB.id, clubB.id, "b");
  await row("settings.save", null, 1, "c");
  for (let i = 0; i < 55; i++) await row("export.download", clubA.id, clubA.id, `p${i}`);
  await recordAudit(t.db, {
    actorId: null,
    actorLabel: "cli:ops",
    action: "role.grant",
    targetType: "user",
    targetId: 9,
  });
});
afterAll(() => t.close());

const csvOf = (text: string) => parse(text) as string[][];

test("who may see it: finance staff all rows, club officers their clubs', members and anonymous nobody", async () => {
  expect((await request(t.app).get("/payments/audit")).status).toBe(302);
  const member = (await signIn(t.app, (await makeUser(t.db)).email)).agent;
  expect((await member.get("/payments/audit")).status).toBe(403);
  expect((await member.get("/payments/audit?format=csv")).status).toBe(403);

  const all = csvOf((await viewer.get("/payments/audit?format=csv")).text);
  expect(all[0]).toEqual([
    "Id",
    "When",
    "Who",
    "Action",
    "Target type",
    "Target id",
    "Organisation",
    "Before",
    "After",
    "Request id",
    "Client address",
  ]);
  expect(all).toHaveLength(1 + 59);

  const a = await officerA.get("/payments/audit?format=csv");
  expect(a.headers["content-disposition"]).toMatch(/attachment; filename="audit-.*\.csv"/);
  const rows = csvOf(a.text).slice(1);
  expect(rows).toHaveLength(56);
  expect(rows.every((r) => r[6]!.startsWith("Alpha"))).toBe(true);
  expect(a.text).not.toContain("Bravo");
  expect(a.text).not.toContain("settings.save");
  // Asking for club B's target by the filters shows nothing either.
  const page = await officerA.get(`/payments/audit?target_type=organisation&target_id=${clubB.id}`);
  expect(page.status).toBe(200);
  expect(page.text).toContain("No audit rows match.");
});

test("filters by who, action, target and dates, as the page's form sends them", async () => {
  const html = (await viewer.get("/payments/audit")).text;
  const form = renderedForm(html, "/payments/audit");
  const get = (typed: Record<string, string>) =>
    viewer.get("/payments/audit").query({ ...form, ...typed, format: "csv" });
  const csv = async (typed: Record<string, string>) => csvOf((await get(typed)).text).slice(1);

  expect((await csv({ who: "cli:" })).map((r) => r[2])).toEqual(["cli:ops"]);
  expect((await csv({ who: "fiona" })).length).toBe(58);
  expect((await csv({ action: "adjustment" })).map((r) => r[3])).toEqual(["adjustment.org", "adjustment.org"]);
  expect((await csv({ action: "settings.save" })).map((r) => r[8])).toEqual(['{"note":"settings.save c"}']);
  const b = await csv({ target_type: "organisation", target_id: String(clubB.id) });
  expect(b.map((r) => [r[3], r[9], r[10]])).toEqual([["adjustment.org", "req-adjustment.org-b", "203.0.113.9"]]);
  const today = new Intl.DateTimeFormat("en-CA", { timeZone: "Australia/Sydney" }).format(new Date());
  expect((await csv({ from: today, to: today })).length).toBe(59);
  expect(await csv({ to: "2020-01-01" })).toEqual([]);
  const bad = await viewer.get("/payments/audit").query({ ...form, from: "2026-12-31", to: "2026-01-01" });
  expect(bad.status).toBe(400);
  expect(bad.text).toContain("The start date must not be after the end date.");
});

test("pages of 50, newest first, keeping the filters", async () => {
  const first = await viewer.get("/payments/audit?action=export.download");
  expect(first.text).toContain("55 rows");
  expect(first.text).toContain("1 of 2");
  expect(first.text).toContain("export.download p54");
  expect(first.text).not.toContain("export.download p4&");
  const next = /href="([^"]*page=2)"/.exec(first.text)![1]!.replace(/&amp;/g, "&");
  expect(next).toContain("action=export.download");
  const second = await viewer.get(next);
  expect(second.text).toContain("2 of 2");
  expect(second.text).toContain("export.download p0");
  expect(second.text).not.toContain("settings.save c");
});
