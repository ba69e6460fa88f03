// A message flashed before a redirect must be stored before the browser can follow the redirect. express-session
// on its own sends the response's headers first and saves the session afterwards, so under load the next page
// could read the session without the message (seen as a rare failure of the finance journey in Chromium).
import pg from "pg";
import { csrfFrom, makeUser, sessionCookie, signIn } from "../helpers/app";
import { type CardStack, startCardStack } from "../helpers/card-stack";
import { key } from "../helpers/payments";

let s: CardStack;
beforeAll(async () => {
  s = await startCardStack();
});
afterAll(() => s.close());

test("the redirect after an adjustment waits until its message is stored, and the next page shows it", async () => {
  const finance = await makeUser(s.p.db, { level: "EDIT", firstName: "Fiona" });
  const member = await makeUser(s.p.db, { firstName: "Harold" });
  const cookie = sessionCookie((await signIn(s.app, finance.email)).res)!;
  const get = (path: string) => fetch(`${s.base}${path}`, { headers: { cookie } });
  const token = csrfFrom(await (await get("/dashboard")).text());

  // Hold the session's row, as a slow session store would: its save must now wait.
  const sid = /^s:(.+)\.[^.]+$/.exec(decodeURIComponent(cookie.slice("bc.sid=".length)))![1]!;
  const blocker = new pg.Client({ connectionString: s.database.url });
  await blocker.connect();
  await blocker.query("BEGIN");
  await blocker.query("SELECT 1 FROM session WHERE sid = $1 FOR UPDATE", [sid]);
  const confirm = fetch(`${s.base}/payments/manual-adjust-member`, {
    method: "POST",
    redirect: "manual",
    headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      _csrf: token,
      member: String(member.systemNumber),
      amount: "42.50",
      description: "Goodwill credit",
      request_id: `r-${key()}`,
      step: "confirm",
    }),
  });
  const first = await Promise.race([
    confirm.then(() => "redirect sent"),
    new Promise((r) => setTimeout(() => r("still waiting"), 500)),
  ]);
  await blocker.query("COMMIT");
  await blocker.end();
  expect(first).toBe("still waiting");

  const res = await confirm;
  expect(res.status).toBe(302);
  const next = await (await get(res.headers.get("location")!)).text();
  expect(next).toContain(`Manual adjustment successful. Harold ${member.lastName} adjusted by $42.50`);
});
