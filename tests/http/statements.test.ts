// The member's statement page, CSV and PDF: paging, filters, the CSV parsed back equal to the ledger (with commas,
// quotes, newlines and formula characters), the PDF's text extracted and checked.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse } from "csv-parse/sync";
import request from "supertest";
import type TestAgent from "supertest/lib/agent";
import { statementRows } from "../../src/services/ledger/statement-rows";
import { adjustMemberBalance } from "../../src/services/payments/manual-adjustment";
import { makeUser, signIn } from "../helpers/app";
import { type CardStack, startCardStack } from "../helpers/card-stack";
import { key } from "../helpers/payments";

let s: CardStack;
let member: { id: number; email: string; systemNumber: number; lastName: string };
let agent: TestAgent;
const TRICKY = ['Lunch, with "friends"', "two\nlines", "=SUM(A1:A9)", "+61 400 000 000", "-minus", "@handle", "plain"];

beforeAll(async () => {
  s = await startCardStack();
  const admin = await makeUser(s.p.db, { level: "EDIT" });
  member = await makeUser(s.p.db, { firstName: "Zoë Łukasz" });
  await s.p.db.user.update({ where: { id: member.id }, data: { lastName: "Żółć" } });
  member.lastName = "Żółć";
  for (let i = 0; i < 35; i++) {
    await adjustMemberBalance(s.p, {
      userId: member.id,
      amountCents: i % 5 === 4 ? -300n : 1_000n + BigInt(i),
      description: TRICKY[i % TRICKY.length]!,
      actorUserId: admin.id,
      idempotencyKey: key(),
    });
  }
  agent = (await signIn(s.app, member.email)).agent;
});
afterAll(() => s.close());

test("the page shows 30 lines, newest first, with a link to older ones", async () => {
  const first = await agent.get("/payments/statement");
  expect(first.status).toBe(200);
  expect(first.text.match(/<tr>\s*<td/g)?.length).toBe(30);
  const older = /href="\/payments\/statement\?before=(\d+)"/.exec(first.text);
  expect(older).not.toBeNull();
  const second = await agent.get(`/payments/statement?before=${older![1]}`);
  expect(second.text.match(/<tr>\s*<td/g)?.length).toBe(5);
  expect(second.text).not.toContain("?before=");
});

test("filters: by type and date; bad filters are refused with a message", async () => {
  const other = await agent.get("/payments/statement?type=Auto+Top+Up");
  expect(other.text).toContain("No transactions match these filters.");
  const future = await agent.get("/payments/statement?from=2099-01-01");
  expect(future.text).toContain("No transactions match these filters.");
  for (const bad of ["from=2024-13-45", "type=Bribe", "from=2025-02-02&to=2025-01-01", "before=abc"]) {
    const res = await agent.get(`/payments/statement?${bad}`);
    expect({ bad, status: res.status }).toEqual({ bad, status: 400 });
    expect(res.text).toContain('role="alert"');
  }
});

test("the CSV parses back to the ledger, with formula cells neutralised", async () => {
  const res = await agent
    .get("/payments/statement-csv")
    .buffer(true)
    .parse((r, cb) => {
      let data = "";
      r.on("data", (c: Buffer) => (data += c.toString("utf8")));
      r.on("end", () => cb(null, data));
    });
  expect(res.status).toBe(200);
  expect(res.headers["content-type"]).toContain("text/csv");
  // Header first (every row as wide as it); who and when are in the file's name.
  const records: string[][] = parse(res.body as string);
  expect(records[0]).toEqual(["Date", "Counterparty", "Reference", "Type", "Description", "Amount", "Balance"]);
  expect(res.headers["content-disposition"]).toMatch(
    new RegExp(`^attachment; filename="statement-${member.systemNumber}-to-\\d{4}-\\d{2}-\\d{2}-\\d{4}\\.csv"$`),
  );
  const ledger = await statementRows(s.p.db, await s.p.accounts.forUser(member.id), { limit: 1000 });
  const lines = records.slice(1);
  expect(lines).toHaveLength(ledger.length);
  lines.forEach((line, i) => {
    const e = ledger[i]!;
    const desc = e.description;
    expect(line[4]).toBe(/^[=+\-@]/.test(desc) ? `'${desc}` : desc);
    expect(line[5]).toBe((Number(e.amountCents) / 100).toFixed(2)); // test-side check only
    expect(line[6]).toBe((Number(e.balanceAfterCents) / 100).toFixed(2));
    expect(line[0]).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
  });
});

test("the PDF: names in any script, opening and closing balances, page numbers", async () => {
  const res = await agent
    .get("/payments/statement-pdf")
    .buffer(true)
    .parse((r, cb) => {
      const chunks: Buffer[] = [];
      r.on("data", (c: Buffer) => chunks.push(c));
      r.on("end", () => cb(null, Buffer.concat(chunks)));
    });
  expect(res.status).toBe(200);
  expect(res.headers["content-type"]).toBe("application/pdf");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pdf-"));
  fs.writeFileSync(path.join(dir, "s.pdf"), res.body as Buffer);
  const text = execFileSync("pdftotext", ["-layout", path.join(dir, "s.pdf"), "-"], { encoding: "utf8" });
  expect(text).toContain(`Zoë Łukasz ${member.lastName}`);
  expect(text).toContain(`ABF ${member.systemNumber}`);
  expect(text).toContain("Opening balance: $0.00");
  const balance = (await s.p.db.account.findUniqueOrThrow({ where: { userId: member.id } })).balanceCents;
  expect(text).toContain(`Closing balance: $${(Number(balance) / 100).toFixed(2)}`);
  expect(text).toMatch(/Page 1 of \d+/);
  expect(text).toContain('Lunch, with "friends"');
});

test("a long statement runs over several pages, each numbered", async () => {
  const long = await makeUser(s.p.db, { firstName: "Long" });
  const admin = await makeUser(s.p.db, { level: "EDIT" });
  for (let i = 0; i < 150; i++) {
    await adjustMemberBalance(s.p, {
      userId: long.id,
      amountCents: 100n,
      description: `Line ${i + 1}`,
      actorUserId: admin.id,
      idempotencyKey: key(),
    });
  }
  const a = (await signIn(s.app, long.email)).agent;
  const res = await a
    .get("/payments/statement-pdf?type=Manual+Adjustment")
    .buffer(true)
    .parse((r, cb) => {
      const chunks: Buffer[] = [];
      r.on("data", (c: Buffer) => chunks.push(c));
      r.on("end", () => cb(null, Buffer.concat(chunks)));
    });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pdf-"));
  fs.writeFileSync(path.join(dir, "l.pdf"), res.body as Buffer);
  const pages = Number(
    /Pages:\s+(\d+)/.exec(execFileSync("pdfinfo", [path.join(dir, "l.pdf")], { encoding: "utf8" }))![1],
  );
  expect(pages).toBeGreaterThanOrEqual(3);
  const text = execFileSync("pdftotext", [path.join(dir, "l.pdf"), "-"], { encoding: "utf8" });
  expect(text).toContain(`Page ${pages} of ${pages}`);
  expect(text.match(/Description/g)?.length).toBe(pages); // the header repeats on every page
  expect(text).toContain("Line 1\n");
  expect(text).toContain("Line 150");
});

test("anonymous visitors are sent to sign in", async () => {
  for (const p of ["/payments/statement-csv", "/payments/statement-pdf"]) {
    expect((await request(s.app).get(p)).status).toBe(302);
  }
});

test("a page position past the oldest line says there is nothing older, not the new member's welcome", async () => {
  const res = await agent.get("/payments/statement?before=1");
  expect(res.status).toBe(200);
  expect(res.text).toContain("No older transactions.");
  expect(res.text).not.toContain("Welcome to Bridge Credits");
});
