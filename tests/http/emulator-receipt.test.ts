// In emulator mode a card payment's receipt link leads to a page that exists: the emulator's own, showing who was
// paid, how much, with which card, when and for what. The link is followed as the member's statement renders it.
import { makeUser, signIn } from "../helpers/app";
import { type CardStack, startCardStack, topUpByCard } from "../helpers/card-stack";

let s: CardStack;
beforeAll(async () => {
  s = await startCardStack();
});
afterAll(() => s.close());

/** The receipt link of the statement line for the card payment, as the page renders it. */
function receiptLink(html: string) {
  const m = /<a href="([^"]+)"[^>]*>Payment from visa ending 4242<\/a>/.exec(html);
  if (!m?.[1]) throw new Error("no receipt link on the statement");
  return m[1].replaceAll("&amp;", "&");
}

test("the receipt link on a member's statement opens the emulator's receipt for that charge", async () => {
  const m = await makeUser(s.p.db);
  const cardId = await topUpByCard(s, m.id, 5_000n);
  const card = await s.p.db.cardPayment.findUniqueOrThrow({ where: { id: cardId } });
  const { agent } = await signIn(s.app, m.email);
  const statement = await agent.get("/payments/statement");
  expect(statement.status).toBe(200);

  const href = receiptLink(statement.text);
  expect(href).toBe(`${s.emulator.url}/receipts/payment/${card.stripeChargeId}`);
  const res = await fetch(href);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/html/);
  const text = (await res.text()).replace(/<[^>]+>/g, " ").replace(/\s+/g, " ");
  const today = new Intl.DateTimeFormat("en-AU", { dateStyle: "long", timeZone: "Australia/Sydney" }).format(
    card.createdAt,
  );
  expect(text).toContain("Your receipt from Bridge Credits");
  expect(text).toContain("Amount paid $50.00 AUD");
  expect(text).toContain("Payment method Visa – 4242");
  expect(text).toContain(`Date paid ${today}`);
  expect(text).toContain(`Description Manual Top Up (member ${m.id})`);
});

test("a receipt that does not exist is a 404", async () => {
  expect((await fetch(`${s.emulator.url}/receipts/payment/ch_nope`)).status).toBe(404);
});
