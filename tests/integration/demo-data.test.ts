import { verifyPassword } from "../../src/auth/password";
import { DEMO_PASSWORD, seedDemoData } from "../../src/services/demo/seed-demo";
import { createTestDatabase, type TestDatabase } from "../helpers/db";

let d: TestDatabase;
beforeAll(async () => {
  d = await createTestDatabase();
});
afterAll(() => d.drop());

test("demo data: the federation, three clubs, a dozen members and the staff roles, added once", async () => {
  const [first, second] = await Promise.all([seedDemoData(d.prisma), seedDemoData(d.prisma)]);
  expect([first, second].filter(Boolean)).toHaveLength(1);
  expect(await seedDemoData(d.prisma)).toBeNull();

  const orgs = await d.prisma.organisation.findMany();
  expect(orgs.filter((o) => o.type === "NATIONAL").map((o) => o.clubNumber)).toEqual(["ABF"]);
  expect(orgs.filter((o) => o.type === "CLUB")).toHaveLength(3);
  const grants = await d.prisma.roleGrant.findMany({ include: { user: true } });
  expect(grants.map((g) => [g.user.email, g.organisationId === null ? "global" : "club", g.level]).sort()).toEqual([
    ["finance@demo.bridgecredits.test", "global", "EDIT"],
    ["treasurer@demo.bridgecredits.test", "club", "EDIT"],
    ["viewer@demo.bridgecredits.test", "global", "VIEW"],
  ]);
  const members = await d.prisma.user.findMany({ where: { roleGrants: { none: {} } } });
  expect(members).toHaveLength(12);
  const lukasz = members.find((m) => m.lastName === "Żółć");
  expect(lukasz?.firstName).toBe("Łukasz");
  expect(await verifyPassword(lukasz!.passwordHash, DEMO_PASSWORD)).toBe(true);
});
