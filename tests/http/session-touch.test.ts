// A page view does not write the session when nothing in it changed: the stored expiry moves at most once a
// minute (src/web/session-store.ts). Every page view used to UPDATE the session row, a write and a WAL flush per
// request (issue 17, bench:http). The row's xmin changes with every UPDATE, so it shows whether one happened.
import net from "node:net";
import { makeUser, signIn, startTestApp, type TestApp } from "../helpers/app";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

async function sessionOf(userId: number) {
  const { rows } = await t.database.pool.query<{ xmin: string; expire: Date }>(
    "SELECT xmin::text, expire FROM session WHERE (sess -> 'passport' ->> 'user') = $1",
    [String(userId)],
  );
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

test("ten page views in a row leave the stored session untouched, and the cookie still slides", async () => {
  const user = await makeUser(t.db);
  const { agent, res } = await signIn(t.app, user.systemNumber);
  expect(res.status).toBe(302);
  // The first page after sign-in stores the new session's CSRF token: one write, once.
  expect((await agent.get("/dashboard")).status).toBe(200);
  const before = await sessionOf(user.id);
  for (let i = 0; i < 10; i++) {
    const page = await agent.get(i % 2 ? "/dashboard" : "/payments/statement");
    expect(page.status).toBe(200);
    expect(page.headers["set-cookie"]?.[0]).toMatch(/^bc\.sid=.*Expires=/); // rolling: a fresh expiry each time
  }
  const after = await sessionOf(user.id);
  expect(after.xmin).toBe(before.xmin);
  expect(after.expire).toEqual(before.expire);
});

test("a stored expiry more than a minute behind is moved forward by the next page view", async () => {
  const user = await makeUser(t.db);
  const { agent } = await signIn(t.app, user.systemNumber);
  await t.database.pool.query(
    "UPDATE session SET expire = expire - interval '2 minutes' WHERE (sess -> 'passport' ->> 'user') = $1",
    [String(user.id)],
  );
  const stale = await sessionOf(user.id);
  expect((await agent.get("/dashboard")).status).toBe(200);
  const moved = await sessionOf(user.id);
  expect(moved.expire.getTime()).toBeGreaterThanOrEqual(stale.expire.getTime() + 115_000);
  // The session it keeps still signs the member in.
  expect((await agent.get("/payments/messages")).status).toBe(200);
});

test("a signed-in page leaves the server in one socket write", async () => {
  // express-session, given a store with touch, holds back a response's last byte until the touch calls back and
  // then writes it on its own: two writes (two system calls, two TCP segments) for every page. The store has no
  // touch; the expiry slides in its own middleware (the test above).
  const user = await makeUser(t.db);
  const { agent } = await signIn(t.app, user.systemNumber);
  expect((await agent.get("/dashboard")).status).toBe(200); // stores the CSRF token (a save, which may split)
  const proto = net.Socket.prototype as unknown as { _writeGeneric: (...args: unknown[]) => unknown };
  const original = proto._writeGeneric;
  let writes = 0;
  proto._writeGeneric = function (this: net.Socket & { server?: unknown }, ...args: unknown[]) {
    if (this.server) writes++; // the server's side of the connection (pg's and the client's sockets have none)
    return original.apply(this, args);
  };
  try {
    for (const path of ["/dashboard", "/payments/statement", "/payments/messages"]) {
      writes = 0;
      const page = await agent.get(path);
      expect(page.status).toBe(200);
      expect(page.text).toMatch(/<\/html>\s*$/);
      expect({ path, writes }).toEqual({ path, writes: 1 });
    }
  } finally {
    proto._writeGeneric = original;
  }
});
