// The operators' CLI, driven through the same function `npm run admin` calls, on a real database.

import { verifyPassword } from "../../src/auth/password";
import { runAdmin } from "../../src/cli/admin";
import { AppError } from "../../src/lib/errors";
import { createTestDatabase, type TestDatabase } from "../helpers/db";

let d: TestDatabase;
beforeAll(async () => {
  d = await createTestDatabase();
});
afterAll(() => d.drop());

const run = (...argv: string[]) => runAdmin(argv, d.prisma);

describe("npm run admin", () => {
  test("creates a user, an organisation and grants and revokes roles", async () => {
    const out = await run(
      "create-user",
      "--system-number",
      "123456",
      "--first-name",
      "Łukasz",
      "--last-name",
      "Żółć",
      "--email",
      "Lukasz@Example.test",
      "--password",
      "a-good-long-password",
    );
    expect(out).toContain("Created user Łukasz Żółć (ABF 123456, lukasz@example.test)");
    const org = await run(
      "create-org",
      "--club-number",
      "4242",
      "--name",
      "Perth Bridge Club",
      "--bsb",
      "086-420",
      "--account",
      "1234-5678",
      "--account-name",
      "Perth BC Trust",
      "--min-balance",
      "250.50",
    );
    expect(org).toContain("keeps $250.50 after settlement");
    const stored = await d.prisma.organisation.findUniqueOrThrow({ where: { clubNumber: "4242" } });
    expect(stored).toMatchObject({
      bankBsb: "086420",
      bankAccount: "12345678",
      bankAccountName: "Perth BC Trust",
      minBalanceAfterSettlementCents: 25050n,
    });

    expect(await run("grant-role", "--user", "123456", "--level", "view", "--org", "4242")).toContain(
      "payments view for club 4242",
    );
    expect(await run("grant-role", "--user", "lukasz@example.test", "--level", "EDIT", "--org", "4242")).toContain(
      "edit",
    );
    expect(await run("grant-role", "--user", "123456", "--level", "view")).toContain("global");
    const grants = await d.prisma.roleGrant.findMany({ orderBy: { id: "asc" } });
    expect(grants.map((g) => [g.organisationId, g.level])).toEqual([
      [stored.id, "EDIT"],
      [null, "VIEW"],
    ]);
    expect(await run("show-user", "--user", "123456")).toContain("payments edit: Perth Bridge Club (4242)");

    await run("revoke-role", "--user", "123456");
    await expect(run("revoke-role", "--user", "123456")).rejects.toThrow("holds no such role");
    expect(await d.prisma.roleGrant.count()).toBe(1);
  });

  test("bad input is refused with a clear message and changes nothing", async () => {
    const before = await d.prisma.user.count();
    const cases: [string[], string][] = [
      [
        ["create-user", "--system-number", "12x", "--first-name", "A", "--last-name", "B", "--email", "a@b.test"],
        "ABF number must be a whole number.",
      ],
      [
        ["create-user", "--system-number", "5", "--first-name", "A", "--last-name", "B", "--email", "nope"],
        "E-mail address is not valid.",
      ],
      [
        [
          "create-user",
          "--system-number",
          "5",
          "--first-name",
          "A",
          "--last-name",
          "B",
          "--email",
          "a@b.test",
          "--password",
          "short",
        ],
        "at least 10 characters",
      ],
      [
        ["create-user", "--system-number", "123456", "--first-name", "A", "--last-name", "B", "--email", "x@b.test"],
        "already registered",
      ],
      [["create-user", "--first-name", "A"], "--system-number is required"],
      [["create-org", "--club-number", "9", "--name", "X", "--bsb", "12"], "BSB must be six digits"],
      // The bank file's rules, as update-org applies them: four digits is a typing mistake, 000-000 no branch.
      [
        ["create-org", "--club-number", "9", "--name", "X", "--account", "1234"],
        "Account number must be 5 to 9 digits",
      ],
      [["create-org", "--club-number", "9", "--name", "X", "--account", "00000"], "cannot be all zeros"],
      [["create-org", "--club-number", "9", "--name", "X", "--bsb", "000-000"], "not a bank branch"],
      [["create-org", "--club-number", "9", "--name", "X", "--account-name", "x".repeat(33)], "at most 32 characters"],
      [["create-org", "--club-number", "9", "--name", "X", "--min-balance", "1.234"], "at most two decimal places"],
      [["create-org", "--club-number", "4242", "--name", "Again"], "already used by Perth Bridge Club"],
      [["grant-role", "--user", "123456", "--level", "owner"], "Level must be view or edit."],
      [["grant-role", "--user", "999", "--level", "view"], 'No user with ABF number or e-mail "999"'],
      [
        ["grant-role", "--user", "123456", "--level", "view", "--org", "nope"],
        'No organisation with club number "nope"',
      ],
      [["create-user", "--bogus", "1"], "Unknown option"],
      [["frobnicate"], 'Unknown command "frobnicate"'],
    ];
    for (const [argv, message] of cases) {
      await expect(run(...argv)).rejects.toThrow(message);
    }
    expect(await d.prisma.user.count()).toBe(before);
    expect(await d.prisma.organisation.count()).toBe(1);
  });

  test("reset-password sets a new password (generated when not given)", async () => {
    const out = await run("reset-password", "--user", "123456");
    const generated = /New password: (\S+)/.exec(out)?.[1];
    expect(generated).toBeDefined();
    const user = await d.prisma.user.findUniqueOrThrow({ where: { systemNumber: 123456 } });
    expect(await verifyPassword(user.passwordHash, generated!)).toBe(true);
    await run("deactivate-user", "--user", "123456");
    expect((await d.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).isActive).toBe(false);
  });

  test("errors are AppErrors with user-safe messages", async () => {
    await expect(run("show-user", "--user", "nobody@nowhere.test")).rejects.toBeInstanceOf(AppError);
  });
});
