// The e-mails on the site (issue 19, item 5): the Messages page shows the same content as the e-mail of each
// notification (the same template), an IOU's e-mail leads to the page with its Pay button, and finance editors —
// only they — see every template of the registry previewed with sample data, as HTML and text.
import fs from "node:fs";
import request from "supertest";
import type TestAgent from "supertest/lib/agent";
import { loadConfig } from "../../src/config";
import { createLogger } from "../../src/lib/logger";
import { EMAIL_TEMPLATES } from "../../src/services/notifications/email-templates";
import { createMailer } from "../../src/services/notifications/mailer";
import { EMAIL_VIEWS, emailRendererFor } from "../../src/services/notifications/render-email";
import { createIou } from "../../src/services/payments/ious";
import { makeClub, makeUser, signIn } from "../helpers/app";
import { type CardStack, startCardStack } from "../helpers/card-stack";
import { fundMember, memberTransfer } from "../helpers/payments";
import { startSmtpInbox, visibleText } from "../helpers/smtp-inbox";

const env = { FEDERATION_NAME: "Fédération Øresund de Bridge", PUBLIC_URL: "https://pay.example.org" };
let s: CardStack;
let inbox: Awaited<ReturnType<typeof startSmtpInbox>>;
let mailer: ReturnType<typeof createMailer>;
let admin: { id: number };

beforeAll(async () => {
  s = await startCardStack({ env });
  inbox = await startSmtpInbox();
  admin = await makeUser(s.p.db, { level: "EDIT" });
  // The mailer as server.ts builds it from the same settings as the app.
  const config = loadConfig({ NODE_ENV: "test", DATABASE_URL: s.database.url, ...env });
  mailer = createMailer({
    pool: s.database.pool,
    transport: inbox.transport,
    from: "payments@example.test",
    renderer: emailRendererFor(config),
    logger: createLogger("silent"),
  });
});
afterAll(async () => {
  inbox.transport.close();
  await inbox.close();
  await s.close();
});

async function member(firstName: string, lastName: string) {
  const u = await makeUser(s.p.db);
  return s.p.db.user.update({ where: { id: u.id }, data: { firstName, lastName } });
}

/** Each message on the Messages page: its id and the visible words of its content. */
function pageMessages(html: string) {
  return [...html.matchAll(/data-message-id="(\d+)">([\s\S]*?)<\/div>\s*<\/article>/g)].map((m) => ({
    id: Number(m[1]),
    html: m[2]!,
    words: visibleText(m[2]!),
  }));
}

/** The e-mail a notification was sent as, read back from the SMTP server: its content cell's words. */
async function emailOf(notificationId: number, to: string) {
  await mailer.sendPending();
  const n = await s.p.db.notification.findUniqueOrThrow({ where: { id: notificationId } });
  const mail = inbox.received.find((m) => m.to.includes(to) && m.subject === n.subject)!;
  const content = /data-email-content>([\s\S]*?)<!--\/content-->/.exec(mail.html)![1]!;
  return { mail, content, words: visibleText(content) };
}

test("the Messages page shows the same content as the e-mail, for each message", async () => {
  const zoe = await member("Zoë", "Ångström-Nguyễn");
  const kiri = await member("Kiri", "O'Brien & <Sons>");
  await fundMember(s.p, kiri.id, 5_000n, admin.id);
  await memberTransfer(s.p, kiri.id, zoe.id, 1_250n, "Dinner & drinks");
  await createIou(s.p, {
    systemNumber: zoe.systemNumber,
    organisationId: (await makeClub(s.p.db, "Øresund Club")).id,
    amountCents: 900n,
    description: "Table money",
  });
  const { agent } = await signIn(s.app, zoe.email);
  const page = await agent.get("/payments/messages");
  expect(page.status).toBe(200);
  const shown = pageMessages(page.text);
  expect(shown).toHaveLength(2);
  for (const m of shown) {
    const { words, content } = await emailOf(m.id, zoe.email);
    expect(m.words).toBe(words);
    // Links: relative on the page, absolute in the e-mail, to the same place.
    const pageLinks = [...m.html.matchAll(/href="([^"]+)"/g)].map((x) => `https://pay.example.org${x[1]}`);
    const mailLinks = [...content.matchAll(/href="([^"]+)"/g)].map((x) => x[1]);
    expect(pageLinks).toEqual(mailLinks);
  }
  const transfer = shown.find((m) => m.words.includes("has transferred"))!;
  expect(transfer.words).toContain("Kiri O'Brien & <Sons> has transferred $12.50");
  expect(transfer.words).toContain("Dinner & drinks");
  expect(transfer.html).toContain("O&#39;Brien &amp; &lt;Sons&gt;");
  expect(transfer.words).toContain("Balance after $12.50");
  expect(transfer.words).toContain("Fédération Øresund de Bridge");
});

test("an IOU's e-mail leads to the dashboard's Pay button for it", async () => {
  const m = await member("Ólafur", "Þórsson");
  const iou = await createIou(s.p, {
    systemNumber: m.systemNumber,
    organisationId: (await makeClub(s.p.db)).id,
    amountCents: 1_500n,
    description: "Congress entry",
  });
  const n = await s.p.db.notification.findFirstOrThrow({ where: { userId: m.id, kind: "IOU_CREATED" } });
  const { mail } = await emailOf(n.id, m.email);
  const link = /Pay now: (\S+)/.exec(mail.text)![1]!;
  expect(mail.html).toContain(`href="${link}"`);
  const url = new URL(link);
  expect(url.origin).toBe("https://pay.example.org");
  const { agent } = await signIn(s.app, m.email);
  const dashboard = (await agent.get(url.pathname)).text;
  expect(dashboard).toContain(`id="${url.hash.slice(1)}"`);
  expect(dashboard).toContain(`action="/payments/pay-user-pending-payment/${iou.id}"`);
});

describe("/payments/email-previews", () => {
  let editor: TestAgent;
  beforeAll(async () => {
    editor = (await signIn(s.app, (await makeUser(s.p.db, { level: "EDIT" })).email)).agent;
  });
  const names = Object.keys(EMAIL_TEMPLATES);
  const urls = [
    "/payments/email-previews",
    ...names.flatMap((n) => [`/payments/email-previews/${n}`, `/payments/email-previews/${n}/html`]),
  ];

  test("every template file is in the registry, and every registered template has its file", () => {
    const files = fs
      .readdirSync(EMAIL_VIEWS)
      .filter((f) => f.endsWith(".njk") && !f.startsWith("_"))
      .map((f) => f.replace(/\.njk$/, ""));
    expect(files.sort()).toEqual([...names].sort());
  });

  test("anonymous visitors, members and finance viewers are refused; an editor without two-factor must enrol", async () => {
    const anon = request.agent(s.app);
    const plain = (await signIn(s.app, (await makeUser(s.p.db)).email)).agent;
    const viewer = (await signIn(s.app, (await makeUser(s.p.db, { level: "VIEW" })).email)).agent;
    const unenrolled = (await signIn(s.app, (await makeUser(s.p.db, { level: "EDIT", twoFactor: false })).email)).agent;
    for (const url of urls) {
      const a = await anon.get(url);
      expect([a.status, a.headers.location]).toEqual([302, `/login?next=${encodeURIComponent(url)}`]);
      expect((await plain.get(url)).status).toBe(403);
      expect((await viewer.get(url)).status).toBe(403);
      const u = await unenrolled.get(url);
      expect([u.status, u.headers.location]).toEqual([302, `/account/two-factor?next=${encodeURIComponent(url)}`]);
    }
  });

  test("a finance editor sees every template of the registry, each as HTML and as text", async () => {
    const list = await editor.get("/payments/email-previews");
    expect(list.status).toBe(200);
    const linked = [...list.text.matchAll(/href="\/payments\/email-previews\/([\w-]+)"/g)].map((m) => m[1]);
    expect(linked).toEqual(names);
    for (const name of names) {
      const sample = EMAIL_TEMPLATES[name]!.sample();
      const page = await editor.get(`/payments/email-previews/${name}`);
      expect(page.status).toBe(200);
      // The page keeps the site's policy, plus framing its own preview document.
      const csp = String(page.headers["content-security-policy"]);
      expect(csp).toContain("frame-src 'self' https://js.stripe.com");
      expect(csp).toContain("style-src 'self';");
      expect(page.text).toContain(`src="/payments/email-previews/${name}/html"`);
      expect(page.text).toMatch(/<iframe[^>]* sandbox=""/);
      const text = /<pre[^>]*id="email-text">([\s\S]*?)<\/pre>/.exec(page.text)![1]!;
      expect(visibleText(text)).toContain("Fédération Øresund de Bridge");
      expect(visibleText(text)).toContain(new URL(sample.linkUrl!, env.PUBLIC_URL).toString());

      const html = await editor.get(`/payments/email-previews/${name}/html`);
      expect(html.status).toBe(200);
      expect(html.headers["content-type"]).toMatch(/^text\/html/);
      // Inline styles for the e-mail, nothing else: no script, no request, sandboxed even when opened directly.
      expect(html.headers["content-security-policy"]).toBe(
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox",
      );
      expect(html.text).toContain("Fédération Øresund de Bridge");
      expect(html.text).not.toMatch(/<script/i);
    }
  });

  test("an unknown template is a 404", async () => {
    expect((await editor.get("/payments/email-previews/no-such-template")).status).toBe(404);
    expect((await editor.get("/payments/email-previews/__proto__/html")).status).toBe(404);
  });
});
