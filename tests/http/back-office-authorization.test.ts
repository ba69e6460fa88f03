// Every route of the club pages and the finance back office, for every role: anonymous, member, officer of this
// club (edit), viewer of this club, officer of another club, finance viewer, finance editor.
import request from "supertest";
import type TestAgent from "supertest/lib/agent";
import { csrfToken, makeClub, makeUser, signIn } from "../helpers/app";
import { type CardStack, startCardStack, topUpByCard } from "../helpers/card-stack";

type Role = "anonymous" | "member" | "officerA" | "viewerA" | "officerB" | "financeViewer" | "financeEditor";
const ROLES: Role[] = ["anonymous", "member", "officerA", "viewerA", "officerB", "financeViewer", "financeEditor"];

let s: CardStack;
const agents = {} as Record<Exclude<Role, "anonymous">, TestAgent>;
const tokens = {} as Record<Exclude<Role, "anonymous">, string>;
let ids: { clubA: number; member: number; card: number; event: string };

beforeAll(async () => {
  s = await startCardStack();
  const clubA = await makeClub(s.p.db, "Alpha");
  const clubB = await makeClub(s.p.db, "Bravo");
  const people = {
    member: await makeUser(s.p.db),
    officerA: await makeUser(s.p.db, { level: "EDIT", orgId: clubA.id }),
    viewerA: await makeUser(s.p.db, { level: "VIEW", orgId: clubA.id }),
    officerB: await makeUser(s.p.db, { level: "EDIT", orgId: clubB.id }),
    financeViewer: await makeUser(s.p.db, { level: "VIEW" }),
    financeEditor: await makeUser(s.p.db, { level: "EDIT" }),
  };
  for (const [role, u] of Object.entries(people) as [Exclude<Role, "anonymous">, { email: string }][]) {
    agents[role] = (await signIn(s.app, u.email)).agent;
    tokens[role] = await csrfToken(agents[role], "/dashboard");
  }
  const card = { id: await topUpByCard(s, people.member.id, 5_000n) };
  const event = await s.p.db.stripeEvent.findFirstOrThrow();
  ids = { clubA: clubA.id, member: people.member.id, card: card.id, event: event.id };
});
afterAll(() => s.close());

const CLUB_VIEW = {
  anonymous: 302,
  member: 403,
  officerA: 200,
  viewerA: 200,
  officerB: 403,
  financeViewer: 200,
  financeEditor: 200,
};
const CLUB_EDIT = {
  anonymous: 302,
  member: 403,
  officerA: 200,
  viewerA: 403,
  officerB: 403,
  financeViewer: 403,
  financeEditor: 200,
};
const FIN_VIEW = {
  anonymous: 302,
  member: 403,
  officerA: 403,
  viewerA: 403,
  officerB: 403,
  financeViewer: 200,
  financeEditor: 200,
};
const FIN_EDIT = {
  anonymous: 302,
  member: 403,
  officerA: 403,
  viewerA: 403,
  officerB: 403,
  financeViewer: 403,
  financeEditor: 200,
};
const SIGNED_IN = {
  anonymous: 302,
  member: 200,
  officerA: 200,
  viewerA: 200,
  officerB: 200,
  financeViewer: 200,
  financeEditor: 200,
};

const routes: [string, () => string, Record<Role, number>][] = [
  ["club statement", () => `/payments/statement-org/${ids.clubA}`, CLUB_VIEW],
  ["club summary fragment", () => `/payments/statement-org-summary/${ids.clubA}/90`, CLUB_VIEW],
  ["club CSV", () => `/payments/statement-csv-org/${ids.clubA}`, CLUB_VIEW],
  ["club PDF", () => `/payments/statement-pdf-org/${ids.clubA}`, CLUB_VIEW],
  ["club finance report", () => `/payments/org-report/${ids.clubA}`, CLUB_VIEW],
  ["club finance report CSV", () => `/payments/org-report/${ids.clubA}?format=csv`, CLUB_VIEW],
  ["club finance report XLSX", () => `/payments/org-report/${ids.clubA}?format=xlsx`, CLUB_VIEW],
  ["club statistics", () => `/payments/org-statistics/${ids.clubA}`, CLUB_VIEW],
  ["club bank details", () => `/payments/org-bank-details/${ids.clubA}`, FIN_EDIT],
  ["club transfer", () => `/payments/member-transfer-org/${ids.clubA}`, CLUB_EDIT],
  ["club fee", () => `/payments/get-org-fees/${ids.clubA}`, SIGNED_IN],
  ["finance summary", () => "/payments/statement-admin-summary", FIN_VIEW],
  ["statistics", () => "/payments/statistics?period=52w", FIN_VIEW],
  ["members with balance", () => "/payments/admin-members-with-balance", FIN_VIEW],
  ["members with balance CSV", () => "/payments/admin-members-with-balance-csv", FIN_VIEW],
  ["orgs with balance", () => "/payments/admin-orgs-with-balance", FIN_VIEW],
  ["orgs with balance CSV", () => "/payments/admin-orgs-with-balance-csv", FIN_VIEW],
  ["member statement (admin)", () => `/payments/statement-admin-view/${ids.member}`, FIN_VIEW],
  ["member statement CSV (admin)", () => `/payments/statement-csv/${ids.member}`, FIN_VIEW],
  ["member card payments", () => `/payments/admin-player-payments/${ids.member}`, FIN_EDIT],
  ["adjust member", () => "/payments/manual-adjust-member", FIN_EDIT],
  ["adjust org", () => "/payments/manual-adjust-org", FIN_EDIT],
  ["adjust org preselected", () => `/payments/manual-adjust-org/${ids.clubA}/2`, FIN_EDIT],
  ["settings", () => "/payments/admin-payments-static", FIN_EDIT],
  ["settings history", () => "/payments/admin-payments-static-history", FIN_EDIT],
  ["fee overrides", () => "/payments/admin-payments-static-org-override", FIN_EDIT],
  ["add fee override", () => "/payments/admin-payments-static-org-override-add", FIN_EDIT],
  ["adjustments report", () => "/payments/admin-view-specific-transactions/manual_adjust", FIN_VIEW],
  ["settlements report CSV", () => "/payments/admin-view-specific-transactions/settlement?format=csv", FIN_VIEW],
  ["card payments", () => "/payments/admin-view-stripe-transactions", FIN_VIEW],
  ["card payments CSV", () => "/payments/admin-view-stripe-transactions?format=csv", FIN_VIEW],
  ["card payment detail", () => `/payments/admin-view-stripe-transaction-detail/${ids.card}`, FIN_VIEW],
  ["admin refund", () => `/payments/admin-refund-stripe-transaction/${ids.card}`, FIN_EDIT],
  ["stripe pending", () => "/payments/stripe-pending", FIN_VIEW],
  ["stripe events", () => "/payments/admin-stripe-events", FIN_VIEW],
  ["stripe event", () => `/payments/admin-stripe-events/${ids.event}`, FIN_VIEW],
  ["mail log", () => "/payments/mail-log", FIN_VIEW],
  ["settlement", () => "/payments/settlement", FIN_EDIT],
  ["settlement history", () => "/payments/settlement-history", FIN_VIEW],
  ["reconciliation", () => "/payments/admin-stripe-rec", FIN_VIEW],
  ["movement report", () => "/payments/organisation-movement-report", FIN_VIEW],
  ["movement report XLSX", () => "/payments/organisation-movement-report?format=xlsx", FIN_VIEW],
  ["accounting export", () => "/payments/accounting-export", FIN_VIEW],
  ["accounting mapping", () => "/payments/accounting-mapping", FIN_VIEW],
  ["approvals", () => "/payments/approvals", FIN_VIEW],
  ["audit trail", () => "/payments/audit", { ...SIGNED_IN, member: 403 }],
  ["audit trail CSV", () => "/payments/audit?format=csv", { ...SIGNED_IN, member: 403 }],
];

test.each(routes)("GET %s answers each role as expected", async (_name, path, expected) => {
  const got: Record<string, number> = {};
  for (const role of ROLES) {
    const res = role === "anonymous" ? await request(s.app).get(path()) : await agents[role].get(path());
    got[role] = res.status;
    if (res.status === 403) expect(res.text).not.toMatch(/at \w+ \(/);
  }
  expect(got).toEqual(expected);
});

const posts: [string, () => string, Record<string, string>][] = [
  [
    "adjust member",
    () => "/payments/manual-adjust-member",
    { member: "1", amount: "1", description: "x", step: "review" },
  ],
  [
    "adjust org",
    () => "/payments/manual-adjust-org",
    { organisation: "1", amount: "1", description: "x", step: "review" },
  ],
  ["settings", () => "/payments/admin-payments-static", { defaultOrgFee: "3" }],
  ["add fee override", () => "/payments/admin-payments-static-org-override-add", { organisation: "1", fee: "2" }],
  ["admin refund", () => `/payments/admin-refund-stripe-transaction/${ids.card}`, { amount: "1", step: "review" }],
  ["re-apply event", () => `/payments/admin-stripe-events/${ids.event}/reapply`, {}],
  ["stripe repair", () => `/payments/stripe-pending/check/${ids.card}`, {}],
  ["settlement", () => "/payments/settlement", { action: "export" }],
  [
    "club bank details",
    () => `/payments/org-bank-details/${ids.clubA}`,
    { step: "review", bsb: "083-004", account: "12345", min_balance: "0" },
  ],
  ["accounting export", () => "/payments/accounting-export", { what: "gl-journal" }],
  ["accounting mapping", () => "/payments/accounting-mapping", { ledger_account: "MEMBER" }],
  ["approve a request", () => "/payments/approvals/999999/approve", {}],
  ["reject a request", () => "/payments/approvals/999999/reject", { note: "x" }],
];

test.each(posts)("POST %s: only finance editors", async (_name, path, body) => {
  for (const role of ["member", "officerA", "financeViewer"] as const) {
    const res = await agents[role]
      .post(path())
      .type("form")
      .send({ _csrf: tokens[role], ...body });
    expect({ role, status: res.status }).toEqual({ role, status: 403 });
  }
  const editor = await agents.financeEditor
    .post(path())
    .type("form")
    .send({ _csrf: tokens.financeEditor, ...body });
  expect([200, 302, 400]).toContain(editor.status);
});

test("club transfer POST: editors of this club and finance editors only", async () => {
  const path = `/payments/member-transfer-org/${ids.clubA}`;
  for (const role of ["member", "viewerA", "officerB", "financeViewer"] as const) {
    const res = await agents[role]
      .post(path)
      .type("form")
      .send({ _csrf: tokens[role], abf: "1", amount: "1", description: "x" });
    expect({ role, status: res.status }).toEqual({ role, status: 403 });
  }
});

test("malformed ids are 404s, an unknown report type a plain 400", async () => {
  expect((await agents.financeViewer.get("/payments/statement-admin-view/abc")).status).toBe(404);
  expect((await agents.financeViewer.get("/payments/admin-view-stripe-transaction-detail/999999")).status).toBe(404);
  expect((await agents.officerA.get("/payments/statement-org/xyz")).status).toBe(404);
  const bad = await agents.financeViewer.get("/payments/admin-view-specific-transactions/bribes");
  expect(bad.status).toBe(400);
  expect(bad.text).toBe("Invalid transaction type for this report: bribes");
});

test("a finance viewer refused an editing page is told it needs editing rights, not that it is for finance staff", async () => {
  const viewer = await agents.financeViewer.get("/payments/settlement");
  expect(viewer.status).toBe(403);
  expect(viewer.text).toContain("This needs federation finance editing rights");
  const member = await agents.member.get("/payments/settlement");
  expect(member.status).toBe(403);
  expect(member.text).toContain("This page is for federation finance staff.");
});
