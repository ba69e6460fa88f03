// CSV exports written by PostgreSQL (COPY): a member's statement with random, awkward text equals, byte for byte,
// what the CSV writer makes of the same ledger rows read independently; a client that leaves mid-download gives
// its connection back to the pool; and the filters reach the query as data, not SQL.
import http from "node:http";
import { parse } from "csv-parse/sync";
import { stringify } from "csv-stringify/sync";
import { memberWithEntries } from "../../scripts/bench/member-with-entries";
import { plainAmount } from "../../src/lib/money";
import { adjustMemberBalance, adjustOrganisationBalance } from "../../src/services/payments/manual-adjustment";
import { orgToMemberTransfer } from "../../src/services/payments/org-to-member-transfer";
import { localTime, safeCell } from "../../src/services/statements/statement-csv";
import { makeClub, makeUser, sessionCookie, signIn } from "../helpers/app";
import { type CardStack, startCardStack } from "../helpers/card-stack";
import { key } from "../helpers/payments";

const PIECES = [
  "=1+1",
  "@x",
  "+61",
  "-5",
  "\ttab",
  "a, b",
  'say "hi"',
  "line\nbreak",
  "cr\r\nlf",
  "Zoë Łukasz",
  "Ω≈ç√ 東京",
  " ",
  "plain",
];

let s: CardStack;
let admin: { id: number; email: string };
let member: { id: number; systemNumber: number };

/** A small deterministic generator, so a failure can be replayed. */
function rng(seed: number) {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

beforeAll(async () => {
  s = await startCardStack();
  admin = await makeUser(s.p.db, { level: "EDIT" });
  member = await makeUser(s.p.db, { firstName: '=Zoë, "Ż"' });
  await s.p.db.user.update({ where: { id: member.id }, data: { lastName: "Łukasz\nŻółć" } });
  const club = await makeClub(s.p.db, '@Club, "Ünïcode"');
  await adjustOrganisationBalance(s.p, {
    organisationId: club.id,
    amountCents: 1_000_000n,
    description: "float",
    actorUserId: admin.id,
    idempotencyKey: key(),
  });
  const rand = rng(17);
  for (let i = 0; i < 40; i++) {
    const text = Array.from({ length: 1 + Math.floor(rand() * 3) }, () => PIECES[Math.floor(rand() * PIECES.length)]!)
      .join("")
      .trim();
    const cents = BigInt(1 + Math.floor(rand() * 100_000));
    if (rand() < 0.3) {
      await orgToMemberTransfer(s.p, {
        organisationId: club.id,
        toUserId: member.id,
        amountCents: cents,
        description: text || "x",
        actorUserId: admin.id,
        idempotencyKey: key(),
      });
    } else {
      await adjustMemberBalance(s.p, {
        userId: member.id,
        amountCents: rand() < 0.3 ? -(cents % 500n) - 1n : cents,
        description: text || "x",
        actorUserId: admin.id,
        idempotencyKey: key(),
      });
    }
  }
});
afterAll(() => s.close());

/** The statement's rows from the ledger through Prisma, formatted by the JavaScript cell rules. */
async function expectedRows(userId: number, filter: { type?: string } = {}) {
  const account = await s.p.db.account.findUniqueOrThrow({ where: { userId } });
  const entries = await s.p.db.entry.findMany({
    where: { accountId: account.id, ...(filter.type ? { type: filter.type } : {}) },
    orderBy: { entryNo: "desc" },
  });
  const rows: string[][] = [["Date", "Counterparty", "Reference", "Type", "Description", "Amount", "Balance"]];
  for (const e of entries) {
    const posting = await s.p.db.posting.findUniqueOrThrow({ where: { id: e.postingId } });
    const cp = e.counterpartyAccountId
      ? await s.p.db.account.findUniqueOrThrow({
          where: { id: e.counterpartyAccountId },
          include: { user: true, organisation: true },
        })
      : null;
    const name = cp?.user
      ? `${cp.user.firstName} ${cp.user.lastName}`
      : (cp?.organisation?.name ??
        (cp?.systemCode === "ADJUSTMENTS" ? "Federation adjustment" : (cp?.systemCode ?? "")));
    rows.push([
      localTime(e.createdAt, "Australia/Sydney"),
      safeCell(name),
      safeCell(posting.referenceNo),
      safeCell(e.type),
      safeCell(posting.description),
      plainAmount(e.amountCents),
      plainAmount(e.balanceAfterCents),
    ]);
  }
  return rows;
}

test("the statement CSV is, byte for byte, the ledger's rows through the CSV writer's rules", async () => {
  const { agent } = await signIn(s.app, admin.email);
  for (const [path, filter] of [
    [`/payments/statement-csv/${member.id}`, {}],
    [`/payments/statement-csv/${member.id}?type=Manual+Adjustment`, { type: "Manual Adjustment" }],
  ] as const) {
    const res = await agent.get(path);
    expect(res.status).toBe(200);
    const want = await expectedRows(member.id, filter);
    expect(want.length).toBeGreaterThan(10);
    expect(parse(res.text, { relax_column_count: false })).toEqual(want);
    expect(res.text).toBe(stringify(want));
  }
  // The other way round: the club's statement names the member (formula-like first name, newline in the last).
  const csv = parse((await agent.get(`/payments/admin-members-with-balance-csv`)).text) as string[][];
  expect(csv).toContainEqual([String(member.systemNumber), '\'=Zoë, "Ż"', "Łukasz\nŻółć", expect.any(String)]);
});

test("filters are data: a quote in a filter value is refused, never run", async () => {
  const { agent } = await signIn(s.app, admin.email);
  const res = await agent.get(
    `/payments/statement-csv/${member.id}?type=${encodeURIComponent("x'); DROP TABLE entries; --")}`,
  );
  expect(res.status).toBe(400);
  expect(await s.p.db.entry.count()).toBeGreaterThan(0);
});

test("a client leaving mid-download gives the connection back to the pool", async () => {
  const big = await memberWithEntries(s.database, "abort", 150_000);
  const cookie = sessionCookie((await signIn(s.app, admin.email)).res)!;
  const pool = s.database.pool;
  const checkedOut = () => pool.totalCount - pool.idleCount;
  // Sign-in's last statement (the throttle un-counting a successful sign-in) runs after its answer: let it finish.
  await new Promise((r) => setTimeout(r, 200));
  const before = checkedOut();
  const got = await new Promise<number>((resolve, reject) => {
    const req = http.get(`${s.base}/payments/statement-csv/${big}`, { headers: { cookie } }, (res) => {
      let bytes = 0;
      res.on("data", (c: Buffer) => {
        bytes += c.length;
        // Stop reading after the first chunk and hang up while PostgreSQL is still writing.
        if (bytes > 0) {
          req.destroy();
          resolve(bytes);
        }
      });
    });
    req.on("error", (e) => (e.message.includes("socket hang up") ? undefined : reject(e)));
  });
  expect(got).toBeGreaterThan(0);
  // The whole file would be ~10 MB; the COPY is cut off, and its connection released (and discarded).
  const deadline = Date.now() + 10_000;
  while ((checkedOut() > before || pool.waitingCount > 0) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  expect({ checkedOut: checkedOut(), waiting: pool.waitingCount }).toEqual({ checkedOut: before, waiting: 0 });
  // The discarded backend notices the hang-up when it next writes: give it a moment on a loaded machine. Only
  // this test's database counts (other test files share the PostgreSQL server and run COPYs of their own).
  const activeCopies = async () =>
    (
      await pool.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE query LIKE 'COPY (%' AND state = 'active' AND pid <> pg_backend_pid() AND datname = current_database()`,
      )
    ).rows[0].n as number;
  const copyDeadline = Date.now() + 15_000;
  while ((await activeCopies()) > 0 && Date.now() < copyDeadline) await new Promise((r) => setTimeout(r, 100));
  expect(await activeCopies()).toBe(0);
  // And the app still answers.
  const { agent } = await signIn(s.app, admin.email);
  expect((await agent.get(`/payments/statement-csv/${member.id}`)).status).toBe(200);
});

test("the database failing mid-download cuts the response (no hang, no details) and the connection is discarded", async () => {
  const big = await memberWithEntries(s.database, "fail", 150_000);
  const cookie = sessionCookie((await signIn(s.app, admin.email)).res)!;
  const pool = s.database.pool;
  const outcome = await new Promise<{ ended: string; body: string }>((resolve) => {
    const req = http.get(`${s.base}/payments/statement-csv/${big}`, { headers: { cookie } }, (res) => {
      const chunks: Buffer[] = [];
      res.pause();
      // While the client is not reading, the COPY waits on back-pressure; end its server process meanwhile.
      pool
        .query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'COPY (%' AND pid <> pg_backend_pid()",
        )
        .then(() => {
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => resolve({ ended: "complete", body: Buffer.concat(chunks).toString() }));
          res.on("error", () => resolve({ ended: "cut", body: Buffer.concat(chunks).toString() }));
          res.resume();
        });
    });
    req.on("error", () => resolve({ ended: "cut", body: "" }));
  });
  expect(outcome.ended).toBe("cut");
  expect(outcome.body).not.toMatch(/terminat|error|stack/i);
  const deadline = Date.now() + 10_000;
  while (pool.totalCount - pool.idleCount > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  expect(pool.totalCount - pool.idleCount).toBe(0);
});
