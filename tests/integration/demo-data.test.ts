import { verifyPassword } from "../../src/auth/password";
import { seedDemoActivity } from "../../src/services/demo/seed-activity";
import { DEMO_PASSWORD, DEMO_TOTP_SECRET, seedDemoData } from "../../src/services/demo/seed-demo";
import { directEntryProblem } from "../../src/services/settlement/direct-entry";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { startPayments } from "../helpers/payments";
import { testBox } from "../helpers/two-factor";

let d: TestDatabase;
beforeAll(async () => {
  d = await createTestDatabase();
});
afterAll(() => d.drop());

test("demo data: the federation, three clubs, a dozen members and the staff roles, added once", async () => {
  const [first, second] = await Promise.all([seedDemoData(d.prisma, testBox), seedDemoData(d.prisma, testBox)]);
  expect([first, second].filter(Boolean)).toHaveLength(1);
  expect(await seedDemoData(d.prisma, testBox)).toBeNull();

  const orgs = await d.prisma.organisation.findMany();
  expect(orgs.filter((o) => o.type === "NATIONAL").map((o) => o.clubNumber)).toEqual(["ABF"]);
  expect(orgs.filter((o) => o.type === "CLUB")).toHaveLength(3);
  const grants = await d.prisma.roleGrant.findMany({ include: { user: true } });
  expect(grants.map((g) => [g.user.email, g.organisationId === null ? "global" : "club", g.level]).sort()).toEqual([
    ["approver@demo.bridgecredits.test", "global", "EDIT"],
    ["finance@demo.bridgecredits.test", "global", "EDIT"],
    ["treasurer@demo.bridgecredits.test", "club", "EDIT"],
    ["viewer@demo.bridgecredits.test", "global", "VIEW"],
  ]);
  const members = await d.prisma.user.findMany({ where: { roleGrants: { none: {} } } });
  expect(members).toHaveLength(12);
  const lukasz = members.find((m) => m.lastName === "Żółć");
  expect(lukasz?.firstName).toBe("Łukasz");
  expect(await verifyPassword(lukasz!.passwordHash, DEMO_PASSWORD)).toBe(true);
  // The staff come enrolled in two-factor sign-in with the published demo secret (encrypted); members do not.
  const enrolled = await d.prisma.twoFactorSecret.findMany({ include: { user: true } });
  expect(enrolled.map((e) => e.user.email).sort()).toEqual([
    "approver@demo.bridgecredits.test",
    "finance@demo.bridgecredits.test",
    "treasurer@demo.bridgecredits.test",
    "viewer@demo.bridgecredits.test",
  ]);
  for (const e of enrolled) {
    expect(e.enabledAt).not.toBeNull();
    expect(e.secretEncrypted).not.toContain(DEMO_TOTP_SECRET);
    expect(testBox.decrypt(e.userId, e.secretEncrypted)).toBe(DEMO_TOTP_SECRET);
  }
  // A fresh installation has no Direct Entry details; the demo saves made-up ones so that it can settle.
  const settings = await d.prisma.paymentSettings.findMany({ orderBy: { id: "asc" } });
  expect(settings.map(directEntryProblem).map((p) => p === null)).toEqual([false, true]);
});

test("demo activity: six weeks of payments through the ledger, every invariant intact", async () => {
  const t = await startPayments();
  try {
    await seedDemoData(t.p.db, testBox);
    await seedDemoActivity(t.p);
    expect(await t.p.db.posting.count()).toBeGreaterThan(50);
    const clubs = await t.p.db.account.findMany({ where: { kind: "ORGANISATION", organisation: { type: "CLUB" } } });
    expect(clubs.every((c) => c.balanceCents > 0n)).toBe(true);
    const members = await t.p.db.account.findMany({ where: { kind: "MEMBER" } });
    expect(members.every((m) => m.balanceCents >= 0n)).toBe(true);
    expect(await t.p.db.$queryRaw`SELECT rule FROM ledger_violations()`).toEqual([]);
    expect(await t.p.db.iou.count()).toBe(1);
  } finally {
    await t.close();
  }
});
