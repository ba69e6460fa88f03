// /payments/stripe-pending: a card payment Stripe took while its webhook was lost is found and booked by finance,
// once; a late webhook then changes nothing. Viewers see the report but cannot repair; members cannot see it.
import { getBalance } from "../../src/services/payments/balances";
import { csrfToken, makeUser, signIn } from "../helpers/app";
import { type CardStack, paidWithWebhookHeld, startCardStack, webhooksSettled } from "../helpers/card-stack";
import { violations } from "../helpers/payments";

let s: CardStack;
beforeAll(async () => {
  s = await startCardStack();
});
afterAll(() => s.close());

test("finance books a card payment whose webhook was lost; the late webhook books nothing more", async () => {
  const m = await makeUser(s.p.db);
  const card = await paidWithWebhookHeld(s, m.id, 9_000n);

  const member = (await signIn(s.app, m.email)).agent;
  const viewer = (await signIn(s.app, (await makeUser(s.p.db, { level: "VIEW" })).email)).agent;
  const editor = (await signIn(s.app, (await makeUser(s.p.db, { level: "EDIT" })).email)).agent;
  expect((await member.get("/payments/stripe-pending")).status).toBe(403);
  const report = await viewer.get("/payments/stripe-pending");
  expect(report.status).toBe(200);
  expect(report.text).toContain("$90.00");
  expect(report.text).not.toContain("Check with Stripe");
  const viewerToken = await csrfToken(viewer, "/payments/stripe-pending");
  expect(
    (await viewer.post(`/payments/stripe-pending/check/${card.id}`).type("form").send({ _csrf: viewerToken })).status,
  ).toBe(403);
  expect(await getBalance(s.p, m.id)).toBe(0n);

  const token = await csrfToken(editor, "/payments/stripe-pending");
  expect((await editor.get("/payments/stripe-pending")).text).toContain("Check with Stripe");
  const res = await editor.post(`/payments/stripe-pending/check/${card.id}`).type("form").send({ _csrf: token });
  expect(res.status).toBe(302);
  const after = (await editor.get("/payments/stripe-pending")).text;
  expect(after).toContain("Stripe took the money: booked now.");
  expect(await getBalance(s.p, m.id)).toBe(9_000n);

  s.emulator.webhooks.release({ copies: 2, shuffle: true });
  await webhooksSettled(s.emulator);
  expect(await getBalance(s.p, m.id)).toBe(9_000n);
  expect(await violations(s.p)).toEqual([]);
});
