// Demo data for a new installation: the federation, three clubs, a dozen members and the staff roles. It runs
// only when the database has no users, so it never touches real data and running it twice adds nothing.
import { hashPassword } from "../../auth/password";
import type { Db } from "../../db/client";
import { enrolWithSecret } from "../two-factor/enrolment";
import type { SecretBox } from "../two-factor/secret-box";

export const DEMO_PASSWORD = "bridge-demo-2026";
/**
 * The demo staff's authenticator secret (base32). Published like the password: demo data is never added in
 * production. `npm run admin -- demo-code --user <login>` prints its current code in development.
 */
export const DEMO_TOTP_SECRET = "BRIDGECREDITSDEMOSTAFFTOTPKEY234";

const ORGS = [
  { clubNumber: "ABF", name: "Australian Bridge Federation", type: "NATIONAL", state: "ACT", suburb: "Canberra" },
  {
    clubNumber: "2401",
    name: "Harbourside Bridge Club",
    type: "CLUB",
    addressLine1: "12 Wharf Road",
    suburb: "Balmain",
    state: "NSW",
    postcode: "2041",
    bankBsb: "062000",
    bankAccount: "12345678",
    minBalanceAfterSettlementCents: 20_000n,
  },
  {
    clubNumber: "3107",
    name: "Yarra Valley Bridge Club",
    type: "CLUB",
    addressLine1: "4 Station Street",
    suburb: "Lilydale",
    state: "VIC",
    postcode: "3140",
    bankBsb: "033001",
    bankAccount: "87654321",
  },
  {
    clubNumber: "7012",
    name: "Hobart Contract Bridge Club",
    type: "CLUB",
    addressLine1: "88 Sandy Bay Road",
    suburb: "Sandy Bay",
    state: "TAS",
    postcode: "7005",
  },
] as const;

/** Plausible, made-up Direct Entry details for the demo federation (a CBA branch BSB, an invented user id). */
export const DEMO_DIRECT_ENTRY = {
  abaBankCode: "CBA",
  abaUserId: "301500",
  federationBsb: "062000",
  federationAccount: "10203040",
} as const;

interface DemoPerson {
  systemNumber: number;
  firstName: string;
  lastName: string;
  email: string;
  role: string;
  grant?: { level: "VIEW" | "EDIT"; clubNumber: string | null };
}

const PEOPLE: DemoPerson[] = [
  {
    systemNumber: 620001,
    firstName: "Margaret",
    lastName: "O'Brien",
    email: "margaret@demo.bridgecredits.test",
    role: "member",
  },
  {
    systemNumber: 620002,
    firstName: "Łukasz",
    lastName: "Żółć",
    email: "lukasz@demo.bridgecredits.test",
    role: "member",
  },
  {
    systemNumber: 620003,
    firstName: "Priya",
    lastName: "Raman",
    email: "priya@demo.bridgecredits.test",
    role: "member",
  },
  {
    systemNumber: 620004,
    firstName: "James",
    lastName: "Nguyen",
    email: "james@demo.bridgecredits.test",
    role: "member",
  },
  {
    systemNumber: 620005,
    firstName: "Siobhan",
    lastName: "Kelly",
    email: "siobhan@demo.bridgecredits.test",
    role: "member",
  },
  { systemNumber: 620006, firstName: "Wei", lastName: "Zhang", email: "wei@demo.bridgecredits.test", role: "member" },
  {
    systemNumber: 620007,
    firstName: "Dorothy",
    lastName: "Fitzgerald",
    email: "dorothy@demo.bridgecredits.test",
    role: "member",
  },
  {
    systemNumber: 620008,
    firstName: "Aroha",
    lastName: "Ngata",
    email: "aroha@demo.bridgecredits.test",
    role: "member",
  },
  {
    systemNumber: 620009,
    firstName: "Giorgos",
    lastName: "Papadopoulos",
    email: "giorgos@demo.bridgecredits.test",
    role: "member",
  },
  {
    systemNumber: 620010,
    firstName: "Helen",
    lastName: "McAllister",
    email: "helen@demo.bridgecredits.test",
    role: "member",
  },
  { systemNumber: 620011, firstName: "Tom", lastName: "Whitlam", email: "tom@demo.bridgecredits.test", role: "member" },
  {
    systemNumber: 620012,
    firstName: "Anjali",
    lastName: "Desai",
    email: "anjali@demo.bridgecredits.test",
    role: "member",
  },
  {
    systemNumber: 620101,
    firstName: "Fiona",
    lastName: "Castellano",
    email: "finance@demo.bridgecredits.test",
    role: "finance editor",
    grant: { level: "EDIT", clubNumber: null },
  },
  {
    systemNumber: 620102,
    firstName: "Victor",
    lastName: "Baptiste",
    email: "viewer@demo.bridgecredits.test",
    role: "finance viewer",
    grant: { level: "VIEW", clubNumber: null },
  },
  {
    systemNumber: 620103,
    firstName: "Colin",
    lastName: "Hargreaves",
    email: "treasurer@demo.bridgecredits.test",
    role: "club officer (Harbourside)",
    grant: { level: "EDIT", clubNumber: "2401" },
  },
  // A second finance editor, so the demo can approve the large money moves the first one asks for.
  {
    systemNumber: 620104,
    firstName: "Grace",
    lastName: "Okafor",
    email: "approver@demo.bridgecredits.test",
    role: "finance editor 2 (approves)",
    grant: { level: "EDIT", clubNumber: null },
  },
];

export const DEMO_LOGINS = [PEOPLE[0]!, PEOPLE[1]!, ...PEOPLE.filter((p) => p.grant)].map((p) => ({
  role: p.role,
  email: p.email,
  systemNumber: p.systemNumber,
}));

/** True when the demo people are in the database (demo data was added to it at some point). */
export async function hasDemoLogins(db: Db): Promise<boolean> {
  return (await db.user.count({ where: { email: { in: DEMO_LOGINS.map((l) => l.email) } } })) > 0;
}

/** Adds the demo data if there are no users yet (the staff enrolled in two-factor sign-in). Null: did nothing. */
export async function seedDemoData(db: Db, box: SecretBox): Promise<{ password: string } | null> {
  if ((await db.user.count()) > 0) return null;
  // One hash shared by all demo users: hashing fifteen times would slow the first start for no benefit.
  const passwordHash = await hashPassword(DEMO_PASSWORD);
  const done = await db.$transaction(async (tx) => {
    // Re-check inside the transaction, under a lock, so two processes starting at once seed only once.
    await tx.$executeRaw`LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE`;
    if ((await tx.user.count()) > 0) return false;
    const orgIds = new Map<string, number>();
    for (const org of ORGS) {
      const created = await tx.organisation.create({ data: { ...org } });
      orgIds.set(org.clubNumber, created.id);
    }
    for (const { role: _role, grant, ...person } of PEOPLE) {
      const user = await tx.user.create({ data: { ...person, passwordHash } });
      if (grant) {
        const organisationId = grant.clubNumber ? (orgIds.get(grant.clubNumber) ?? null) : null;
        await tx.roleGrant.create({ data: { userId: user.id, organisationId, level: grant.level } });
        await enrolWithSecret(tx, box, user.id, DEMO_TOTP_SECRET);
      }
    }
    // Demo Direct Entry details, so the demo can settle and download a bank file. A real installation starts
    // with them unset, and settlement refuses until finance enters the bank's numbers.
    const {
      id: _id,
      createdAt: _at,
      modifiedByUserId: _by,
      ...current
    } = await tx.paymentSettings.findFirstOrThrow({
      orderBy: { id: "desc" },
    });
    await tx.paymentSettings.create({ data: { ...current, ...DEMO_DIRECT_ENTRY } });
    return true;
  });
  return done ? { password: DEMO_PASSWORD } : null;
}
