// Every e-mail is rendered from its template as HTML with a plain-text alternative, and carries its key facts:
// the recipient's name, the amount, the balance after, an absolute link to the page to act on and the
// federation's name. Each is written through the real outbox (in a transaction, as events write them), sent by
// the real mailer through a real nodemailer SMTP transport to a real SMTP server, and read back from the MIME.
import { createLogger } from "../../src/lib/logger";
import { formatMoney } from "../../src/lib/money";
import { inTransaction } from "../../src/services/ledger/transaction";
import { EMAIL_TEMPLATES } from "../../src/services/notifications/email-templates";
import { createMailer } from "../../src/services/notifications/mailer";
import { type NotificationInput, writeNotifications } from "../../src/services/notifications/outbox";
import { createEmailRenderer } from "../../src/services/notifications/render-email";
import { makeClub, makeUser } from "../helpers/app";
import { fundMember, key, memberTransfer, payClub, startPayments, type TestPayments } from "../helpers/payments";
import { type ReceivedMail, startSmtpInbox, visibleText } from "../helpers/smtp-inbox";

const FEDERATION = "Fédération Øresund de Bridge";
const PUBLIC_URL = "https://pay.example.org";
const ZOE = { firstName: "Zoë", lastName: "Ångström-Nguyễn" };

let s: TestPayments;
let inbox: Awaited<ReturnType<typeof startSmtpInbox>>;
let admin: { id: number };
let mailer: ReturnType<typeof createMailer>;
const renderer = createEmailRenderer({
  federationName: FEDERATION,
  publicUrl: PUBLIC_URL,
  timeZone: "Australia/Sydney",
});

beforeAll(async () => {
  s = await startPayments();
  inbox = await startSmtpInbox();
  admin = await makeUser(s.p.db, { level: "EDIT" });
  mailer = createMailer({
    pool: s.database.pool,
    transport: inbox.transport,
    from: "Bridge Credits <payments@example.test>",
    renderer,
    logger: createLogger("silent"),
  });
});
afterAll(async () => {
  inbox.transport.close();
  await inbox.close();
  await s.close();
});

async function person(name: { firstName: string; lastName: string }) {
  const u = await makeUser(s.p.db);
  return s.p.db.user.update({ where: { id: u.id }, data: name });
}

/** Sends everything waiting and answers the mails that reached the SMTP server for `email`. */
async function mailsTo(email: string): Promise<ReceivedMail[]> {
  await mailer.sendPending();
  return inbox.received.filter((m) => m.to.includes(email));
}

const balanceOf = async (userId: number) =>
  (await s.p.db.account.findUniqueOrThrow({ where: { userId } })).balanceCents;

/** What each template must say, beyond the name, the federation and the link: the amount fact, whether it shows
 * the balance after, and words the member needs (what to do). A template missing here fails the test. */
const EXPECT: Record<string, { amount?: string; balance: boolean; words?: string[] }> = {
  "auto-top-up-succeeded": { amount: "amountCents", balance: true },
  "auto-top-up-failed": { amount: "amountCents", balance: true, words: ["What to do", "Top up now"] },
  "auto-top-up-needs-confirmation": { amount: "amountCents", balance: true, words: ["What to do"] },
  "transfer-sent": { amount: "amountCents", balance: true, words: ["Dinner at congress", "Kiri O'Brien & Sons"] },
  "transfer-received": { amount: "amountCents", balance: true, words: ["Dinner at congress", "Kiri O'Brien & Sons"] },
  "org-transfer": { amount: "amountCents", balance: true, words: ["Prize money, autumn pairs", "Pat Treasurer"] },
  "low-balance": { balance: true, words: ["Set up Auto Top Up"] },
  "card-refund": { amount: "cardAmountCents", balance: true },
  "card-refund-by-staff": { amount: "cardAmountCents", balance: true, words: ["Charged twice for the congress"] },
  "iou-created": { amount: "amountCents", balance: false, words: ["What to do", "Pay"] },
  "approval-decided": { balance: false, words: ["Sam Second", "Please attach the club's letter"] },
  "dispute-withdrawn": { amount: "amountCents", balance: true, words: ["What to do"] },
  "dispute-reinstated": { amount: "givenBackCents", balance: true },
  "dispute-for-finance": { balance: false, words: ["dp_sample"] },
  "bank-details-changed": { balance: false, words: ["ending 321", "082-001"] },
  "purchase-not-made": {
    amount: "cardAmountCents",
    balance: true,
    words: ["Harbour City Bridge Club", "Congress entry", "balance no longer covered it", "What to do"],
  },
  message: { balance: false },
};

test("every template in the registry has its expectations here", () => {
  expect(Object.keys(EXPECT).sort()).toEqual(Object.keys(EMAIL_TEMPLATES).sort());
});

test.each(Object.keys(EMAIL_TEMPLATES))(
  "%s: HTML and text parts, read back from SMTP, carry the name, amount, balance after, link and federation",
  async (name) => {
    const zoe = await person(ZOE);
    await fundMember(s.p, zoe.id, 3_456n, admin.id);
    const sample = EMAIL_TEMPLATES[name]!.sample();
    // The sample's facts without what the outbox adds itself (the real name and balance are read in the write).
    const { recipientName: _n, balanceAfterCents: _b, ...facts } = (sample.data ?? {}) as Record<string, unknown>;
    const n: NotificationInput = {
      userId: zoe.id,
      kind: EMAIL_TEMPLATES[name]!.kind ?? "TRANSFER_RECEIVED",
      subject: `${sample.subject} für Zoë`,
      body: sample.body,
      linkUrl: sample.linkUrl,
      linkText: sample.linkText,
      dedupeKey: key("mail"),
      data: sample.data ? ({ ...facts, template: name } as NotificationInput["data"]) : undefined,
    };
    await inTransaction(s.database.pool, (client) => writeNotifications(client, [n]));
    const [mail, ...more] = await mailsTo(zoe.email);
    expect(more).toEqual([]);
    expect(mail!.types).toEqual(["text/plain", "text/html"]);
    expect(mail!.subject).toBe(`${sample.subject} für Zoë`);
    const html = visibleText(mail!.html);
    const link = new URL(sample.linkUrl!, PUBLIC_URL).toString();
    for (const part of [mail!.text, html]) {
      expect(part).toContain(FEDERATION);
      if (name !== "message") expect(part).toContain("Zoë Ångström-Nguyễn");
      const e = EXPECT[name]!;
      if (e.amount) expect(part).toContain(formatMoney(BigInt(String(facts[e.amount]))));
      if (e.balance) expect(part).toMatch(/Balance (after|now)|Your balance/);
      if (e.balance) expect(part).toContain(formatMoney(3_456n));
      for (const w of e.words ?? []) expect(part).toContain(w);
    }
    if (name === "message") expect(mail!.text).toContain(sample.body);
    expect(mail!.text).toContain(link);
    expect(mail!.html).toContain(`href="${link}"`);
    // HTML for mail clients: inline styles, no style sheet or script.
    expect(mail!.html).not.toMatch(/<script|<style|<link/i);
  },
);

test("a member transfer: both e-mails say who and why, with each side's balance after the transfer", async () => {
  const a = await person(ZOE);
  const b = await person({ firstName: "Łukasz", lastName: "Øster" });
  await fundMember(s.p, a.id, 10_000n, admin.id);
  await fundMember(s.p, b.id, 1_000n, admin.id);
  const r = await memberTransfer(s.p, a.id, b.id, 2_550n, "Dîner après le congrès");
  expect(r.ok).toBe(true);
  // A later payment must not change what the transfer's e-mail says (the balance is the one after the transfer).
  await payClub(s.p, a.id, (await makeClub(s.p.db)).id, 100n, "Table money");
  const [sent] = await mailsTo(a.email);
  const [got] = await mailsTo(b.email);
  expect(sent!.subject).toBe("Transfer to Łukasz Øster");
  expect(got!.subject).toBe("Transfer from Zoë Ångström-Nguyễn");
  for (const part of [sent!.text, visibleText(sent!.html)]) {
    expect(part).toContain("Łukasz Øster");
    expect(part).toContain("Dîner après le congrès");
    expect(part).toContain("$25.50");
    expect(part).toMatch(/Balance after:? \$74\.50/);
  }
  for (const part of [got!.text, visibleText(got!.html)]) {
    expect(part).toContain("Zoë Ångström-Nguyễn has transferred $25.50");
    expect(part).toContain("Dîner après le congrès");
    expect(part).toMatch(/Balance after:? \$35\.50/);
  }
  expect(await balanceOf(a.id)).toBe(7_350n);
});

describe("low-balance warning", () => {
  const descriptions = ["Monday pairs", "Tuesday teams", "Wednesday Swiss", "Thursday pairs", "Friday teams"];

  async function warnedMember() {
    const m = await person(ZOE);
    const club = await makeClub(s.p.db);
    await fundMember(s.p, m.id, 6_000n, admin.id);
    await payClub(s.p, m.id, club.id, 500n, "Sunday social");
    for (const [i, description] of descriptions.entries()) {
      await payClub(s.p, m.id, club.id, BigInt(700 + i * 100), description);
    }
    return m;
  }

  test("shows exactly the last five transactions, newest first, with the ledger's amounts and balances", async () => {
    const m = await warnedMember();
    // The ledger's own last five entries of the member, read independently.
    const ledger = await s.p.db.$queryRaw<{ description: string; amount: bigint; balance: bigint }[]>`
      SELECT p.description, e.amount_cents AS amount, e.balance_after_cents AS balance
        FROM entries e JOIN accounts a ON a.id = e.account_id JOIN postings p ON p.id = e.posting_id
       WHERE a.user_id = ${m.id} ORDER BY e.entry_no DESC LIMIT 5`;
    expect(ledger.map((l) => l.description)).toEqual([...descriptions].reverse());
    const mails = await mailsTo(m.email);
    // $60 - 5 - 7 - 8 - 9 - 10 - 11: under $20 only after the last payment.
    expect(mails.map((x) => x.subject)).toEqual(["Low Balance Warning"]);
    const mail = mails[0]!;
    const rows = mail.text.split("\n").filter((l) => l.startsWith("- "));
    expect(rows).toHaveLength(5);
    ledger.forEach((l, i) => {
      const cells = rows[i]!.slice(2).split("  |  ");
      expect(cells.slice(1)).toEqual([l.description, formatMoney(l.amount), formatMoney(l.balance)]);
    });
    // The same five in the HTML part, in the same order, and nothing older.
    const html = visibleText(mail.html);
    const at = ledger.map((l) => html.indexOf(`${l.description} ${formatMoney(l.amount)} ${formatMoney(l.balance)}`));
    expect(at.every((x) => x > 0)).toBe(true);
    expect([...at].sort((x, y) => x - y)).toEqual(at);
    for (const part of [mail.text, html]) {
      expect(part).not.toContain("Sunday social");
      expect(part).toContain(`balance is now ${formatMoney(await balanceOf(m.id))}`);
      expect(part).toContain("Zoë Ångström-Nguyễn");
    }
    // Auto top-up is off: the e-mail says how to switch it on, with the set-up page's address.
    expect(mail.text).toContain(`Set up Auto Top Up: ${PUBLIC_URL}/payments/setup-autotopup`);
    expect(mail.html).toContain(`href="${PUBLIC_URL}/payments/setup-autotopup"`);
    expect(mail.text).not.toContain("Auto Top Up is on");
  });

  test("with auto top-up on it says so, and gives no set-up hint", async () => {
    const m = await warnedMember();
    const warning = await s.p.db.notification.findFirstOrThrow({ where: { userId: m.id, kind: "LOW_BALANCE" } });
    expect((warning.data as { autoTopUp: string }).autoTopUp).toBe("OFF");
    // A warning whose member had auto top-up on (the outbox stores the status it read in the event's transaction).
    await s.p.db.notification.create({
      data: {
        userId: m.id,
        kind: "LOW_BALANCE",
        subject: "Low Balance Warning (on)",
        body: warning.body,
        linkUrl: warning.linkUrl,
        linkText: warning.linkText,
        dedupeKey: key("on"),
        data: { ...(warning.data as object), autoTopUp: "ON" },
      },
    });
    const mail = (await mailsTo(m.email)).find((x) => x.subject === "Low Balance Warning (on)")!;
    for (const part of [mail.text, visibleText(mail.html)]) {
      expect(part).toContain("Auto Top Up is on");
      expect(part).not.toContain("Set up Auto Top Up");
    }
    expect(mail.html).not.toContain("/payments/setup-autotopup");
  });
});

test("HTML special characters in names and descriptions are escaped in the HTML part, plain in the text", async () => {
  const evil = await person({ firstName: "<script>alert(1)</script>", lastName: 'Smith & "Co"' });
  const zoe = await person(ZOE);
  await fundMember(s.p, evil.id, 5_000n, admin.id);
  await memberTransfer(s.p, evil.id, zoe.id, 1_000n, "<b>bold</b> & <img src=x onerror=alert(2)>");
  const [mail] = await mailsTo(zoe.email);
  expect(mail!.html).not.toContain("<script>");
  expect(mail!.html).not.toContain("<img");
  expect(mail!.html).not.toContain("<b>bold");
  expect(mail!.html).toContain("&lt;script&gt;alert(1)&lt;/script&gt; Smith &amp; &quot;Co&quot;");
  expect(mail!.html).toContain("&lt;b&gt;bold&lt;/b&gt; &amp; &lt;img src=x onerror=alert(2)&gt;");
  expect(mail!.text).toContain('<script>alert(1)</script> Smith & "Co" has transferred $10.00');
  expect(mail!.subject).toBe('Transfer from <script>alert(1)</script> Smith & "Co"');
});

test("a message written before templates (no data) is still sent, as HTML and text, from its subject and body", async () => {
  const zoe = await person(ZOE);
  await s.p.db.notification.create({
    data: {
      userId: zoe.id,
      kind: "TRANSFER_RECEIVED",
      subject: "Transfer from Ann",
      body: "Ann has transferred 5.00 credits into your Bridge Credits account. The description was: <Tea & cake>.",
      linkUrl: "/payments",
      linkText: "View Statement",
      dedupeKey: key("old"),
    },
  });
  const [mail] = await mailsTo(zoe.email);
  expect(mail!.types).toEqual(["text/plain", "text/html"]);
  expect(mail!.text).toContain("The description was: <Tea & cake>.");
  expect(mail!.text).toContain(`View Statement: ${PUBLIC_URL}/payments`);
  expect(mail!.html).toContain("The description was: &lt;Tea &amp; cake&gt;.");
  expect(mail!.html).toContain(FEDERATION);
});

test("the MIME reader decodes what nodemailer writes: quoted-printable, base64 and encoded-word subjects", async () => {
  // Mostly non-ASCII text makes nodemailer choose base64; mostly ASCII, quoted-printable.
  const cyrillic = "Привет, Зоя! Ваш баланс обновлён. ".repeat(8);
  await inbox.transport.sendMail({
    from: "a@example.test",
    to: "reader@example.test",
    subject: "Ωμέγα Zoë Ångström-Nguyễn",
    text: cyrillic,
    html: `<p>${cyrillic}</p>`,
  });
  const mail = inbox.received.find((m) => m.to.includes("reader@example.test"))!;
  expect(mail.raw).toMatch(/Content-Transfer-Encoding: base64/i);
  expect(mail.subject).toBe("Ωμέγα Zoë Ångström-Nguyễn");
  expect(mail.text).toBe(cyrillic);
  expect(mail.html).toBe(`<p>${cyrillic}</p>`);
});
