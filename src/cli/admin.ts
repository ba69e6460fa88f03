// Operators' command line: `npm run admin -- <command> [options]`. Uses DATABASE_URL, or the embedded database
// in the data folder (joining it if the app is running). Every command validates its input with the same rules
// as the web pages and prints a one-line error otherwise.
import { randomBytes, randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import dotenv from "dotenv";
import type pg from "pg";
import { ConfigError, loadConfig } from "../config";
import { connectDatabase, type Db } from "../db/client";
import { prepareSchema } from "../db/migrate";
import { localSecret, openLocalDatabase } from "../infra/local-database";
import { AppError } from "../lib/errors";
import { formatMoney, parseAmount } from "../lib/money";
import { type ApiScope, createApiKey, liveKeys, parseExpiryDate } from "../services/api/keys";
import { cliActor, recordAudit } from "../services/audit/record";
import { DEMO_TOTP_SECRET } from "../services/demo/seed-demo";
import { changeBankDetails } from "../services/orgs/bank-details";
import { createOrganisation } from "../services/orgs/create-organisation";
import { grantRole, revokeRole } from "../services/roles/grant-role";
import { resetTwoFactor } from "../services/two-factor/enrolment";
import { createSecretBox } from "../services/two-factor/secret-box";
import { codeForStep, stepAt } from "../services/two-factor/totp";
import { endSessions, setPassword } from "../services/users/change-password";
import { createUser } from "../services/users/create-user";
import { getUserByIdentifier } from "../services/users/find-user";
import { setUserActive } from "../services/users/set-user-active";

dotenv.config({ quiet: true });

const USAGE = `Usage: npm run admin -- <command> [options]

Commands:
  create-user     --system-number N --first-name NAME --last-name NAME --email E [--password P]
  create-org      --club-number C --name NAME [--type CLUB|STATE|NATIONAL|OTHER] [--bsb 062-000]
                  [--account 12345678] [--account-name NAME] [--min-balance 200.00] [--address ...] [--suburb ...]
                  [--state ...] [--postcode ...]   (bank details follow update-org's rules)
  update-org      --org CLUB_NUMBER [--bsb 062-000] [--account 12345678] [--account-name NAME] [--min-balance 200.00]
                  (bank details and minimum balance after settlement, validated as on the club's page; the club's
                  officers are told; --account-name "" goes back to the club's name)
  grant-role      --user ABF-or-email --level view|edit [--org CLUB_NUMBER]   (no --org: global finance role)
  revoke-role     --user ABF-or-email [--org CLUB_NUMBER]
  reset-password  --user ABF-or-email [--password P]   (a random one is generated and printed when omitted)
  deactivate-user --user ABF-or-email                  (signs them out everywhere)
  activate-user   --user ABF-or-email
  show-user       --user ABF-or-email
  reset-2fa       --user ABF-or-email                  (lost phone: two-factor sign-in removed, signed out everywhere;
                  a payments editor enrols again at their next sign-in)
  demo-code       --user ABF-or-email                  (development only: the demo staff's current two-factor code)
  create-api-key  --scopes charges:write,ious:write --name TEXT [--org CLUB_NUMBER] [--expires YYYY-MM-DD]
                  (no --org: a federation-wide key; the key is printed once, alone on the last line)
`;

const OPTIONS = {
  "system-number": { type: "string" },
  "first-name": { type: "string" },
  "last-name": { type: "string" },
  email: { type: "string" },
  password: { type: "string" },
  "club-number": { type: "string" },
  name: { type: "string" },
  type: { type: "string" },
  bsb: { type: "string" },
  account: { type: "string" },
  "account-name": { type: "string" },
  "min-balance": { type: "string" },
  address: { type: "string" },
  suburb: { type: "string" },
  state: { type: "string" },
  postcode: { type: "string" },
  user: { type: "string" },
  level: { type: "string" },
  org: { type: "string" },
  scopes: { type: "string" },
  expires: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

type Opts = Partial<Record<keyof typeof OPTIONS, string | boolean>>;

class UsageError extends Error {}

function need(opts: Opts, name: keyof typeof OPTIONS): string {
  const v = opts[name];
  if (typeof v !== "string" || v.trim() === "") throw new UsageError(`--${name} is required for this command.`);
  return v;
}

const randomPassword = () => randomBytes(12).toString("base64url");

async function orgIdFor(db: Db, clubNumber: string | undefined): Promise<number | null> {
  if (!clubNumber) return null;
  const org = await db.organisation.findUnique({ where: { clubNumber } });
  if (!org) throw new AppError("NOT_FOUND", `No organisation with club number "${clubNumber}".`);
  return org.id;
}

const COMMANDS: Record<string, (db: Db, o: Opts, pool?: pg.Pool) => Promise<string>> = {
  "update-org": async (db, o, pool) => {
    if (!pool) throw new Error("update-org needs the database pool");
    const str = (k: keyof typeof OPTIONS) => (typeof o[k] === "string" ? (o[k] as string) : undefined);
    const organisationId = (await orgIdFor(db, need(o, "org")))!;
    const request = {
      bsb: str("bsb"),
      account: str("account"),
      accountName: str("account-name"),
      minBalanceCents:
        o["min-balance"] === undefined ? undefined : parseAmount(str("min-balance") ?? "", "Minimum balance"),
    };
    if (Object.values(request).every((v) => v === undefined)) {
      throw new UsageError("Give at least one of --bsb, --account, --account-name, --min-balance.");
    }
    const out = await changeBankDetails(
      { pool },
      {
        organisationId,
        request,
        requestKey: `cli:${randomUUID()}`,
        actorUserId: null,
        source: "cli",
        audit: cliActor(),
      },
    );
    return [
      `Changed club ${o.org}: ${out.changes.map((c) => `${c.field} ${c.old} -> ${c.new}`).join("; ")}.`,
      `The next settlement uses these details; ${out.notified} officer(s) were told.${
        out.clearedFlag ? ` Cleared the flag: ${out.clearedFlag}` : ""
      }`,
    ].join("\n");
  },
  "create-api-key": async (db, o) => {
    const config = loadConfig();
    const { key, secret } = await createApiKey(
      db,
      {
        name: need(o, "name"),
        organisationId: await orgIdFor(db, o.org as string | undefined),
        scopes: need(o, "scopes")
          .split(",")
          .map((x) => x.trim())
          .filter(Boolean) as ApiScope[],
        expiresAt: parseExpiryDate(o.expires, config.TIME_ZONE),
        live: liveKeys(config.STRIPE_SECRET_KEY),
      },
      cliActor(),
    );
    return [
      `Created API key "${key.name}" (${key.prefix}…) for ${o.org ? `club ${o.org}` : "the whole federation"}, scopes ${key.scopes.join(", ")}${
        key.expiresAt ? `, expires ${key.expiresAt.toISOString()}` : ""
      }. It is shown only now:`,
      secret,
    ].join("\n");
  },
  "create-user": async (db, o) => {
    const password = typeof o.password === "string" ? o.password : randomPassword();
    const u = await createUser(
      db,
      {
        systemNumber: need(o, "system-number") as unknown as number,
        firstName: need(o, "first-name"),
        lastName: need(o, "last-name"),
        email: need(o, "email"),
        password,
      },
      cliActor(),
    );
    return `Created user ${u.firstName} ${u.lastName} (ABF ${u.systemNumber}, ${u.email})${
      o.password ? "" : `. Password: ${password}`
    }`;
  },
  "create-org": async (db, o) => {
    const str = (k: keyof typeof OPTIONS) => (typeof o[k] === "string" ? (o[k] as string) : undefined);
    const org = await createOrganisation(
      db,
      {
        clubNumber: need(o, "club-number"),
        name: need(o, "name"),
        type: (str("type")?.toUpperCase() ?? "CLUB") as "CLUB",
        bankBsb: str("bsb"),
        bankAccount: str("account"),
        bankAccountName: str("account-name"),
        addressLine1: str("address"),
        suburb: str("suburb"),
        state: str("state"),
        postcode: str("postcode"),
        minBalanceAfterSettlementCents: o["min-balance"] ? parseAmount(o["min-balance"], "Minimum balance") : 0n,
      },
      cliActor(),
    );
    return `Created organisation ${org.name} (club number ${org.clubNumber}, id ${org.id}, keeps ${formatMoney(
      org.minBalanceAfterSettlementCents,
    )} after settlement)`;
  },
  "grant-role": async (db, o) => {
    const user = await getUserByIdentifier(db, need(o, "user"));
    const organisationId = await orgIdFor(db, o.org as string | undefined);
    const g = await grantRole(db, { userId: user.id, organisationId, level: need(o, "level") as "VIEW" }, cliActor());
    return `${user.firstName} ${user.lastName} now has payments ${g.level.toLowerCase()} for ${
      o.org ? `club ${o.org}` : "every organisation (global)"
    }`;
  },
  "revoke-role": async (db, o) => {
    const user = await getUserByIdentifier(db, need(o, "user"));
    await revokeRole(db, user.id, await orgIdFor(db, o.org as string | undefined), cliActor());
    return `Removed the role from ${user.firstName} ${user.lastName}`;
  },
  "reset-password": async (db, o) => {
    const user = await getUserByIdentifier(db, need(o, "user"));
    const password = typeof o.password === "string" ? o.password : randomPassword();
    await setPassword(db, user.id, password, cliActor());
    return `Password reset for ${user.firstName} ${user.lastName}; they were signed out everywhere.${
      o.password ? "" : ` New password: ${password}`
    }`;
  },
  "deactivate-user": async (db, o) => {
    const user = await getUserByIdentifier(db, need(o, "user"));
    await setUserActive(db, user.id, false, cliActor());
    await endSessions(db, user.id);
    return `Deactivated ${user.firstName} ${user.lastName}; they can no longer sign in.`;
  },
  "reset-2fa": async (db, o) => {
    const user = await getUserByIdentifier(db, need(o, "user"));
    const had = await resetTwoFactor(db, user.id, (tx, done) =>
      recordAudit(tx, {
        ...cliActor(),
        action: "two_factor.reset",
        targetType: "user",
        targetId: user.id,
        after: done,
      }),
    );
    return had
      ? `Two-factor sign-in reset for ${user.firstName} ${user.lastName}; they were signed out everywhere and enrol again at their next sign-in.`
      : `${user.firstName} ${user.lastName} had no two-factor sign-in; they were signed out everywhere.`;
  },
  "demo-code": async (db, o) => {
    const config = loadConfig();
    if (config.NODE_ENV === "production") throw new AppError("FORBIDDEN", "demo-code is for development only.");
    const user = await getUserByIdentifier(db, need(o, "user"));
    const row = await db.twoFactorSecret.findUnique({ where: { userId: user.id } });
    if (!row?.enabledAt) throw new AppError("NOT_FOUND", `${user.email} has no two-factor sign-in.`);
    const box = createSecretBox(config.APP_ENCRYPTION_KEY ?? localSecret(config.DATA_DIR, "encryption-key"));
    // Only the published demo secret: a code of someone's own authenticator is never printed.
    if (box.decrypt(user.id, row.secretEncrypted) !== DEMO_TOTP_SECRET) {
      throw new AppError("FORBIDDEN", `${user.email} uses their own authenticator, not the demo secret.`);
    }
    return codeForStep(DEMO_TOTP_SECRET, stepAt(Date.now()));
  },
  "activate-user": async (db, o) => {
    const user = await getUserByIdentifier(db, need(o, "user"));
    await setUserActive(db, user.id, true, cliActor());
    return `Activated ${user.firstName} ${user.lastName}.`;
  },
  "show-user": async (db, o) => {
    const user = await getUserByIdentifier(db, need(o, "user"));
    const grants = await db.roleGrant.findMany({ where: { userId: user.id }, include: { organisation: true } });
    const roles = grants.map(
      (g) =>
        `  payments ${g.level.toLowerCase()}: ${g.organisation ? `${g.organisation.name} (${g.organisation.clubNumber})` : "global"}`,
    );
    return [
      `${user.firstName} ${user.lastName}, ABF ${user.systemNumber}, ${user.email}, ${user.isActive ? "active" : "INACTIVE"}`,
      ...(roles.length ? roles : ["  no payments roles"]),
    ].join("\n");
  },
};

export async function runAdmin(argv: string[], db: Db, pool?: pg.Pool): Promise<string> {
  const [command, ...rest] = argv;
  if (!command || command === "help" || command === "--help" || command === "-h") return USAGE;
  const run = COMMANDS[command];
  if (!run) throw new UsageError(`Unknown command "${command}".`);
  let values: Opts;
  try {
    ({ values } = parseArgs({ args: rest, options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return run(db, values, pool);
}

async function main() {
  const argv = process.argv.slice(2);
  if (!argv[0] || ["help", "--help", "-h"].includes(argv[0])) {
    console.log(USAGE);
    return 0;
  }
  if (!COMMANDS[argv[0]]) {
    console.error(`error: unknown command "${argv[0]}"\n\n${USAGE}`);
    return 2;
  }
  const config = loadConfig();
  const local = config.DATABASE_URL ? null : await openLocalDatabase(config.DATA_DIR, () => {});
  const url = config.DATABASE_URL ?? local!.url;
  const database = connectDatabase(url, { max: 2 });
  try {
    await prepareSchema(url, config.MIGRATE_ON_START);
    console.log(await runAdmin(argv, database.prisma, database.pool));
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`error: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    if (e instanceof AppError || e instanceof ConfigError) {
      console.error(`error: ${e.message}`);
      return 1;
    }
    throw e;
  } finally {
    await database.close();
    await local?.stop();
  }
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (e) => {
      console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(1);
    },
  );
}
