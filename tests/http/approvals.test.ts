// Second approval of large money moves (issue 18 item 3), through the real pages: over the threshold a confirmed
// adjustment, refund or settlement becomes a request and books nothing; another finance editor approves it and it
// books once (also when two approve at once); the requester cannot decide their own; expired requests cannot be
// approved; rejection books nothing; a rule that fails at approval books nothing and says why; the requester is
// told; request, approval and rejection are in the audit trail.
import type TestAgent from "supertest/lib/agent";
import { getBalance } from "../../src/services/payments/balances";
import { makeClub, makeUser, signIn } from "../helpers/app";
import { type CardStack, startCardStack, topUpByCard } from "../helpers/card-stack";
import { fundOrganisation, violations } from "../helpers/payments";
import { renderedForm as formById } from "../helpers/forms";
import { setDirectEntry } from "../helpers/settlement";
import { adjustMember, adjustOrg, pressButton, reviewAndConfirm, submitForm } from "../helpers/staff-forms";

let s: CardStack;
let alice: { id: number; email: string };
let bob: { id: number; email: string };
let aliceAgent: TestAgent;
let bobAgent: TestAgent;

beforeAll(async () => {
  s = await startCardStack();
  alice = await makeUser(s.p.db, { level: "EDIT", firstName: "Alice" });
  bob = await makeUser(s.p.db, { level: "EDIT", firstName: "Bob" });
  aliceAgent = (await signIn(s.app, alice.email)).agent;
  bobAgent = (await signIn(s.app, bob.email)).agent;
});
afterAll(() => s.close());
afterEach(async () => expect(await violations(s.p)).toEqual([]));

/** How many adjustments a member's statement shows. */
const adjustments = async (userId: number) =>
  (
    await s.p.db.$queryRaw<{ n: bigint }[]>`
      SELECT count(*) AS n FROM entries e JOIN accounts a ON a.id = e.account_id
       WHERE a.user_id = ${userId} AND e.type = 'Manual Adjustment'`
  )[0]!.n;
const clubBalance = async (organisationId: number) =>
  (await s.p.db.account.findUniqueOrThrow({ where: { organisationId } })).balanceCents;
const tokenOf = async (agent: TestAgent) =>
  /name="_csrf" value="([^"]+)"/.exec((await agent.get("/payments/approvals")).text)![1]!;
const latestRequest = () => s.p.db.approvalRequest.findFirstOrThrow({ orderBy: { id: "desc" } });
const auditOf = (action: string, targetId: number | string) =>
  s.p.db.auditEvent.findMany({ where: { action, targetId: String(targetId) } });
const approve = (agent: TestAgent, id: number) =>
  pressButton(agent, "/payments/approvals", `/payments/approvals/${id}/approve`);

test("at or under the threshold an adjustment books at once", async () => {
  const m = await makeUser(s.p.db);
  const res = await adjustMember(aliceAgent, m.systemNumber, "500.00");
  expect(res.status).toBe(302);
  expect(await getBalance(s.p, m.id)).toBe(50_000n);
  expect(await s.p.db.approvalRequest.count({ where: { targetUserId: m.id } })).toBe(0);
});

test("over the threshold: a request, nothing booked; another editor approves and it books once", async () => {
  const m = await makeUser(s.p.db);
  const res = await adjustMember(aliceAgent, m.systemNumber, "500.01", "Large correction");
  expect(res.status).toBe(302);
  expect(res.headers.location).toBe("/payments/approvals");
  expect(await getBalance(s.p, m.id)).toBe(0n);
  expect(await adjustments(m.id)).toBe(0n);
  const r = await latestRequest();
  expect(r).toMatchObject({ kind: "member_adjustment", status: "pending", requestedByUserId: alice.id });
  expect(r.amountCents).toBe(50_001n);
  expect(await auditOf("approval.request", r.id)).toHaveLength(1);

  // The requester sees no buttons for it, and a hand-made POST is refused with a clear message.
  const list = await aliceAgent.get("/payments/approvals");
  expect(list.text).toContain("Your request: another finance editor decides.");
  expect(list.text).not.toContain(`/payments/approvals/${r.id}/approve`);
});

test("self-approval is refused with a clear message and books nothing", async () => {
  const m = await makeUser(s.p.db);
  await adjustMember(aliceAgent, m.systemNumber, "900");
  const r = await latestRequest();
  // Alice's page has no approve form for her own request, so she posts Bob's page's form (same fields).
  const html = (await bobAgent.get("/payments/approvals")).text;
  expect(html).toContain(`/payments/approvals/${r.id}/approve`);
  const res = await aliceAgent
    .post(`/payments/approvals/${r.id}/approve`)
    .type("form")
    .send({ _csrf: await tokenOf(aliceAgent) });
  expect(res.status).toBe(302);
  const page = await aliceAgent.get("/payments/approvals");
  expect(page.text).toContain("You asked for this yourself: another finance editor must approve it.");
  expect(await getBalance(s.p, m.id)).toBe(0n);
  expect((await s.p.db.approvalRequest.findUniqueOrThrow({ where: { id: r.id } })).status).toBe("pending");
  expect(await auditOf("approval.approve", r.id)).toHaveLength(0);
});

test("approved by another editor: booked once, audited, requester told", async () => {
  const m = await makeUser(s.p.db);
  await adjustMember(aliceAgent, m.systemNumber, "-750.00", "Reverse duplicate top-up");
  const r = await latestRequest();
  const res = await approve(bobAgent, r.id);
  expect(res.status).toBe(302);
  expect((await bobAgent.get("/payments/approvals")).text).toContain(`Request ${r.id} approved and booked.`);
  expect(await getBalance(s.p, m.id)).toBe(-75_000n);
  // Approving again (a second tab) books nothing more.
  const token = await tokenOf(bobAgent);
  await bobAgent.post(`/payments/approvals/${r.id}/approve`).type("form").send({ _csrf: token });
  expect((await bobAgent.get("/payments/approvals")).text).toContain("This request was already approved by Bob");
  expect(await getBalance(s.p, m.id)).toBe(-75_000n);
  expect(await adjustments(m.id)).toBe(1n);
  const done = await s.p.db.approvalRequest.findUniqueOrThrow({ where: { id: r.id } });
  expect(done).toMatchObject({ status: "approved", decidedByUserId: bob.id });
  const decision = await auditOf("approval.approve", r.id);
  expect(decision).toHaveLength(1);
  expect(decision[0]).toMatchObject({ actorUserId: bob.id });
  const booked = await auditOf("adjustment.member", m.id);
  expect(booked).toHaveLength(1);
  expect(booked[0]).toMatchObject({ actorUserId: bob.id });
  const note = await s.p.db.notification.findFirstOrThrow({ where: { userId: alice.id, kind: "APPROVAL_DECIDED" } });
  expect(note.subject).toBe(`Approval request ${r.id} approved`);
});

test("two editors approving at once book once", async () => {
  const carol = await makeUser(s.p.db, { level: "EDIT", firstName: "Carol" });
  const carolAgent = (await signIn(s.app, carol.email)).agent;
  const m = await makeUser(s.p.db);
  await adjustMember(aliceAgent, m.systemNumber, "2000");
  const r = await latestRequest();
  const [a, b] = await Promise.all([approve(bobAgent, r.id), approve(carolAgent, r.id)]);
  expect([a.status, b.status]).toEqual([302, 302]);
  expect(await getBalance(s.p, m.id)).toBe(200_000n);
  expect(await adjustments(m.id)).toBe(1n);
  expect(await auditOf("approval.approve", r.id)).toHaveLength(1);
});

test("rejection books nothing, is audited and told; a rejected request cannot then be approved", async () => {
  const m = await makeUser(s.p.db);
  await adjustMember(aliceAgent, m.systemNumber, "600");
  const r = await latestRequest();
  const res = await pressButton(bobAgent, "/payments/approvals", `/payments/approvals/${r.id}/reject`, {
    note: "No ticket for this",
  });
  expect(res.status).toBe(302);
  const carol = await makeUser(s.p.db, { level: "EDIT" });
  const carolAgent = (await signIn(s.app, carol.email)).agent;
  const token = await tokenOf(carolAgent);
  await carolAgent.post(`/payments/approvals/${r.id}/approve`).type("form").send({ _csrf: token });
  expect((await carolAgent.get("/payments/approvals")).text).toContain("This request was already rejected by Bob");
  expect(await getBalance(s.p, m.id)).toBe(0n);
  expect(await s.p.db.approvalRequest.findUniqueOrThrow({ where: { id: r.id } })).toMatchObject({
    status: "rejected",
    outcome: "No ticket for this",
  });
  expect(await auditOf("approval.reject", r.id)).toHaveLength(1);
  expect(await auditOf("approval.approve", r.id)).toHaveLength(0);
  const note = await s.p.db.notification.findFirstOrThrow({ where: { dedupeKey: `approval:${r.id}:rejected` } });
  expect(note.body).toContain("No ticket for this");
  // The e-mail greets the requester by name, as every other message does.
  const requester = await s.p.db.user.findUniqueOrThrow({ where: { id: r.requestedByUserId } });
  expect(note.data).toMatchObject({ recipientName: `${requester.firstName} ${requester.lastName}` });
});

test("an expired request is shown as expired and cannot be approved", async () => {
  const m = await makeUser(s.p.db);
  await adjustMember(aliceAgent, m.systemNumber, "800");
  const r = await latestRequest();
  const token = await tokenOf(bobAgent);
  // Eight days pass.
  await s.p.db.$executeRaw`UPDATE approval_requests SET requested_at = requested_at - interval '8 days',
                             expires_at = expires_at - interval '8 days' WHERE id = ${r.id}`;
  const page = await bobAgent.get("/payments/approvals");
  expect(page.text).toMatch(new RegExp(`id="approval-${r.id}"[\\s\\S]*?expired`));
  expect(page.text).not.toContain(`/payments/approvals/${r.id}/approve`);
  await bobAgent.post(`/payments/approvals/${r.id}/approve`).type("form").send({ _csrf: token });
  expect((await bobAgent.get("/payments/approvals")).text).toContain("This request expired on");
  expect(await getBalance(s.p, m.id)).toBe(0n);
  expect(await auditOf("approval.approve", r.id)).toHaveLength(0);
});

test("club adjustments and manual settlements over the threshold wait too; the rules apply again at approval", async () => {
  const club = await makeClub(s.p.db, "Approval");
  await fundOrganisation(s.p, club.id, 100_000n, alice.id);
  await adjustOrg(aliceAgent, club.id, "-900.00", "Settlement");
  const settle = await latestRequest();
  expect(settle.kind).toBe("org_settlement");
  // Meanwhile the club spends most of its money: at approval the settlement would overdraw it.
  await adjustOrg(aliceAgent, club.id, "-200.00");
  expect(await clubBalance(club.id)).toBe(80_000n);
  await approve(bobAgent, settle.id);
  const failed = await s.p.db.approvalRequest.findUniqueOrThrow({ where: { id: settle.id } });
  expect(failed.status).toBe("failed");
  expect(failed.outcome).toContain("a settlement cannot take it below zero");
  expect((await bobAgent.get("/payments/approvals")).text).toContain("a settlement cannot take it below zero");
  expect(await s.p.db.posting.count({ where: { idempotencyKey: `approval:${settle.id}` } })).toBe(0);
  expect(await auditOf("approval.fail", settle.id)).toHaveLength(1);

  await adjustOrg(aliceAgent, club.id, "1000.00");
  const adj = await latestRequest();
  expect(adj.kind).toBe("org_adjustment");
  await approve(bobAgent, adj.id);
  expect(await clubBalance(club.id)).toBe(180_000n);
});

test("an admin refund over the threshold waits; approved, it refunds the card once", async () => {
  const m = await makeUser(s.p.db);
  const cardId = await topUpByCard(s, m.id, 80_000n);
  const page = `/payments/admin-refund-stripe-transaction/${cardId}`;
  const res = await reviewAndConfirm(aliceAgent, page, page, { amount: "700.00", description: "Duplicate payment" });
  expect(res.status).toBe(302);
  expect(await s.p.db.cardRefund.count({ where: { cardPaymentId: cardId } })).toBe(0);
  const r = await latestRequest();
  expect(r.kind).toBe("admin_refund");
  await approve(bobAgent, r.id);
  const refunds = await s.p.db.cardRefund.findMany({ where: { cardPaymentId: cardId } });
  expect(refunds).toHaveLength(1);
  expect(refunds[0]).toMatchObject({
    requestedByUserId: bob.id,
    creditsCents: 70_000n,
    requestKey: `approval:${r.id}`,
  });
  expect(await getBalance(s.p, m.id)).toBe(10_000n);
  expect(await auditOf("refund.admin", cardId)).toHaveLength(1);
});

test("a settlement above the settings' total waits; approved, it settles once; the threshold is a setting", async () => {
  await setDirectEntry(s.p.db);
  // Finance lowers the settlement threshold to $100.00 on the settings page.
  const settings = "/payments/admin-payments-static";
  expect((await submitForm(aliceAgent, settings, settings, { settlementApprovalThreshold: "100.00" })).status).toBe(
    302,
  );
  const club = await makeClub(s.p.db, "Settle");
  await s.p.db.organisation.update({ where: { id: club.id }, data: { bankBsb: "062000", bankAccount: "11112222" } });
  await fundOrganisation(s.p, club.id, 30_000n, alice.id);
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  const page = await aliceAgent.get(`/payments/settlement?reference_date=${tomorrow}`);
  const form = { ...formById(page.text, "settlement-form"), [`org_${club.id}`]: "on", action: "confirm" };
  const res = await aliceAgent.post("/payments/settlement").type("form").send(form);
  expect(res.headers.location).toBe("/payments/approvals");
  expect(await s.p.db.settlement.count({ where: { organisationId: club.id } })).toBe(0);
  const r = await latestRequest();
  expect(r).toMatchObject({ kind: "settlement_batch", amountCents: 30_000n });
  await approve(bobAgent, r.id);
  expect(await s.p.db.approvalRequest.findUniqueOrThrow({ where: { id: r.id } })).toMatchObject({ status: "approved" });
  const batch = await s.p.db.settlementBatch.findUniqueOrThrow({
    where: { requestKey: `approval:${r.id}` },
    include: { settlements: true },
  });
  expect(batch).toMatchObject({ createdByUserId: bob.id, grossCents: 30_000n });
  expect(batch.settlements.map((x) => x.organisationId)).toEqual([club.id]);
  expect(await clubBalance(club.id)).toBe(0n);
  expect(await auditOf("settlement.confirm", batch.id)).toHaveLength(1);
});

test("the approver sees the balance now and after an adjustment, and when it goes below zero", async () => {
  const m = await makeUser(s.p.db);
  await adjustMember(aliceAgent, m.systemNumber, "300.00"); // under the threshold: booked at once
  await adjustMember(aliceAgent, m.systemNumber, "-3000.00");
  const r = await latestRequest();
  const page = await bobAgent.get("/payments/approvals");
  const row = new RegExp(`id="approval-${r.id}"[\\s\\S]*?</tr>`).exec(page.text)![0];
  expect(row).toContain("Balance now $300.00; after: -$2,700.00");
  expect(row).toContain("below zero");
});
