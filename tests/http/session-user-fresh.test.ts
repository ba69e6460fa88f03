// The signed-in user, their roles and their second factor are read with the session, in the same query, on every
// request (src/web/session-store.ts): nothing is kept between requests, so a role revoked, an account deactivated
// or a session whose stored user id is not a user's takes effect on the very next request.
import { grantRole, revokeRole } from "../../src/services/roles/grant-role";
import { makeClub, makeUser, signIn, startTestApp, type TestApp } from "../helpers/app";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

test("a revoked role is refused on the next request, and a regranted one is back on the next", async () => {
  const viewer = await makeUser(t.db, { level: "VIEW" });
  const club = await makeClub(t.db, "Fresh Roles Club");
  await grantRole(t.db, { userId: viewer.id, organisationId: club.id, level: "VIEW" });
  const { agent } = await signIn(t.app, viewer.email);
  expect((await agent.get("/payments/statement-admin-summary")).status).toBe(200);
  expect((await agent.get("/dashboard")).text).toContain("Fresh Roles Club");

  await revokeRole(t.db, viewer.id, null);
  await revokeRole(t.db, viewer.id, club.id);
  expect((await agent.get("/payments/statement-admin-summary")).status).toBe(403);
  expect((await agent.get(`/payments/statement-org/${club.id}`)).status).toBe(403);
  expect((await agent.get("/dashboard")).text).not.toContain("Fresh Roles Club");

  await grantRole(t.db, { userId: viewer.id, organisationId: null, level: "VIEW" });
  expect((await agent.get("/payments/statement-admin-summary")).status).toBe(200);
});

test("a deactivated account is signed out on its next request", async () => {
  const member = await makeUser(t.db);
  const { agent } = await signIn(t.app, member.email);
  expect((await agent.get("/dashboard")).status).toBe(200);
  await t.db.user.update({ where: { id: member.id }, data: { isActive: false } });
  const res = await agent.get("/dashboard");
  expect(res.status).toBe(302);
  expect(res.headers.location).toBe("/login?next=%2Fdashboard");
});

test("a stored session whose user id is not a number of a user signs no one in", async () => {
  const member = await makeUser(t.db);
  const { agent } = await signIn(t.app, member.email);
  expect((await agent.get("/payments/messages")).status).toBe(200);
  for (const id of ["0", "-1", "12abc", "99999999999", "2147483647"]) {
    await t.database.pool.query(
      `UPDATE session SET sess = jsonb_set(sess::jsonb, '{passport,user}', to_jsonb($2::text))::json
        WHERE (sess -> 'passport' ->> 'user') IN ($1, '0', '-1', '12abc', '99999999999', '2147483647')`,
      [String(member.id), id],
    );
    const res = await agent.get("/payments/messages");
    expect({ id, status: res.status, location: res.headers.location }).toEqual({
      id,
      status: 302,
      location: "/login?next=%2Fpayments%2Fmessages",
    });
  }
});
