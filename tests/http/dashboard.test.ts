// The dashboard's figures, now read in one query (src/services/payments/member-summary.ts): balance, last top-up,
// auto top-up and pending payments (IOUs, oldest first, each with its pay form), for the signed-in member only.
import { createIou } from "../../src/services/payments/ious";
import { makeClub, makeUser, signIn } from "../helpers/app";
import { type CardStack, startCardStack, topUpByCard } from "../helpers/card-stack";
import { fundMember } from "../helpers/payments";

let s: CardStack;
beforeAll(async () => {
  s = await startCardStack();
});
afterAll(() => s.close());

const text = (html: string, id: string) =>
  new RegExp(`id="${id}"[^>]*>([\\s\\S]*?)</`).exec(html)?.[1]?.replace(/\s+/g, " ").trim();

test("balance, last top-up, auto top-up and pending payments of the signed-in member", async () => {
  const finance = await makeUser(s.p.db, { level: "EDIT" });
  const member = await makeUser(s.p.db, { firstName: "Dana" });
  const other = await makeUser(s.p.db);
  const club = await makeClub(s.p.db, "Harbour & Co");
  const { agent } = await signIn(s.app, member.email);

  let page = (await agent.get("/dashboard")).text;
  expect(text(page, "balance")).toBe("$0.00");
  expect(page).toContain("No top-ups yet");
  expect(text(page, "auto-top-up")).toBe("Off");
  expect(page).not.toContain('id="ious"');

  await fundMember(s.p, member.id, 12_345n, finance.id); // an adjustment: not a top-up
  await topUpByCard(s, member.id, 2_000n);
  await s.p.db.user.update({
    where: { id: member.id },
    data: { autoTopUpStatus: "ON", autoTopUpAmountCents: 5_000n },
  });
  const first = await createIou(s.p, {
    systemNumber: member.systemNumber,
    organisationId: club.id,
    amountCents: 700n,
    description: "Table money <Tuesday>",
  });
  const second = await createIou(s.p, {
    systemNumber: member.systemNumber,
    organisationId: club.id,
    amountCents: 1_250n,
    description: "Congress entry",
  });
  await createIou(s.p, {
    systemNumber: other.systemNumber,
    organisationId: club.id,
    amountCents: 99n,
    description: "Not hers",
  });

  page = (await agent.get("/dashboard")).text;
  expect(text(page, "balance")).toBe("$143.45");
  expect(page).toMatch(/Last top-up \d{1,2} [A-Z][a-z]{2} \d{4}, \d{1,2}:\d{2}/);
  expect(text(page, "auto-top-up")).toBe("On ($50.00)");
  const ious = /<ul[^>]*id="ious"[\s\S]*?<\/ul>/.exec(page)?.[0] ?? "";
  expect(ious).toContain("Harbour &amp; Co");
  expect(ious).toContain("Table money &lt;Tuesday&gt;");
  expect(ious).not.toContain("Not hers");
  expect(ious.indexOf("$7.00")).toBeGreaterThan(-1);
  expect(ious.indexOf("$7.00")).toBeLessThan(ious.indexOf("$12.50")); // oldest first
  expect(ious).toContain(`action="/payments/pay-user-pending-payment/${first.id}"`);
  expect(ious).toContain(`action="/payments/pay-user-pending-payment/${second.id}"`);
});
