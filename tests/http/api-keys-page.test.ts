// /payments/api-keys and /payments/api-log as finance staff use them (forms as rendered, CSRF and all), and the
// CLI's create-api-key.
import request from "supertest";
import { runAdmin } from "../../src/cli/admin";
import { csrfFrom, makeClub, makeUser, signIn, startTestApp, type TestApp } from "../helpers/app";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const memberCall = (secret: string, abf: number) =>
  request(t.app).get(`/api/v1/members/${abf}`).set("Authorization", `Bearer ${secret}`);

test("a finance editor makes a key (shown once), it works at once, the log lists its calls, and revoking stops it on the next call", async () => {
  const finance = await makeUser(t.db, { level: "EDIT" });
  const club = await makeClub(t.db);
  const { agent } = await signIn(t.app, finance.email);
  const page = await agent.get("/payments/api-keys");
  expect(page.status).toBe(200);
  const created = await agent
    .post("/payments/api-keys")
    .type("form")
    .send(
      `_csrf=${encodeURIComponent(csrfFrom(page.text))}&name=Scoring+software&organisation=${club.id}&scopes=charges%3Awrite&scopes=read&expires=`,
    );
  expect(created.status).toBe(201);
  expect(created.headers["cache-control"]).toBe("no-store");
  const secret = /<code id="api-key-secret">([^<]+)<\/code>/.exec(created.text)?.[1];
  expect(secret).toMatch(/^bc_test_/);
  const stored = await t.db.apiKey.findFirstOrThrow({ where: { name: "Scoring software" } });
  expect(stored.secretHash).not.toContain(secret!);
  expect(stored).toMatchObject({
    organisationId: club.id,
    scopes: ["charges:write", "read"],
    createdByUserId: finance.id,
  });

  expect((await memberCall(secret!, finance.systemNumber)).status).toBe(200);
  const list = await agent.get("/payments/api-keys");
  expect(list.text).toContain("Scoring software");
  expect(list.text).not.toContain(secret!);
  await new Promise((r) => setTimeout(r, 100));
  const log = await agent.get(`/payments/api-log?key=${stored.id}`);
  expect(log.text).toContain("/api/v1/members/:abf");

  const revoke = await agent
    .post(`/payments/api-keys/${stored.id}/revoke`)
    .type("form")
    .send({ _csrf: csrfFrom(list.text) });
  expect(revoke.status).toBe(302);
  const refused = await memberCall(secret!, finance.systemNumber);
  expect(refused.status).toBe(401);
  expect(refused.body.detail).toMatch(/revoked/);
});

test("bad form input is shown on the page and makes no key; only finance editors may use the pages", async () => {
  const finance = await makeUser(t.db, { level: "EDIT" });
  const { agent } = await signIn(t.app, finance.email);
  const page = await agent.get("/payments/api-keys");
  const bad = await agent
    .post("/payments/api-keys")
    .type("form")
    .send({ _csrf: csrfFrom(page.text), name: "", organisation: "", expires: "2020-13-45" });
  expect(bad.status).toBe(400);
  expect(bad.text).toMatch(/Give the key a name|Choose at least one scope|expiry/);
  expect(await t.db.apiKey.count({ where: { name: "" } })).toBe(0);

  const viewer = await makeUser(t.db, { level: "VIEW" });
  const { agent: v } = await signIn(t.app, viewer.email);
  expect((await v.get("/payments/api-keys")).status).toBe(403);
  expect((await v.get("/payments/api-log")).status).toBe(403);
  const club = await makeClub(t.db);
  const officer = await makeUser(t.db, { level: "EDIT", orgId: club.id });
  const { agent: o } = await signIn(t.app, officer.email);
  expect((await o.get("/payments/api-keys")).status).toBe(403);
});

test("npm run admin -- create-api-key prints the key alone on its last line; without --org it is federation-wide", async () => {
  const club = await makeClub(t.db);
  const out = await runAdmin(
    [
      "create-api-key",
      "--org",
      club.clubNumber,
      "--scopes",
      "charges:write,ious:write",
      "--name",
      "Event entry",
      "--expires",
      "2099-12-31",
    ],
    t.db,
  );
  const secret = out.split("\n").at(-1)!;
  expect(secret).toMatch(/^bc_test_[A-Za-z0-9_-]{51}$/);
  const key = await t.db.apiKey.findFirstOrThrow({ where: { name: "Event entry" } });
  expect(key).toMatchObject({ organisationId: club.id, scopes: ["charges:write", "ious:write"] });
  expect(key.expiresAt!.getUTCFullYear()).toBe(2099);
  const fed = await runAdmin(["create-api-key", "--scopes", "read", "--name", "Federation reports"], t.db);
  expect((await t.db.apiKey.findFirstOrThrow({ where: { name: "Federation reports" } })).organisationId).toBeNull();
  const someone = await makeUser(t.db);
  expect((await memberCall(fed.split("\n").at(-1)!, someone.systemNumber)).status).toBe(200);
  await expect(runAdmin(["create-api-key", "--scopes", "everything", "--name", "x"], t.db)).rejects.toThrow(
    /Scopes are/,
  );
});
