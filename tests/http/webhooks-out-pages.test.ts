// The webhook endpoints pages, driven through the forms as rendered: who may see and change what (club A's
// officer never sees or touches club B's endpoints), server-side validation and URL checks, the secret shown
// once and on demand, and the deliveries list with re-send.
import request from "supertest";
import type TestAgent from "supertest/lib/agent";
import { csrfFrom, makeClub, makeUser, signIn, startTestApp, type TestApp } from "../helpers/app";

type Role = "member" | "officerA" | "viewerA" | "officerB" | "financeViewer" | "financeEditor";
let s: TestApp;
const agents = {} as Record<Role, TestAgent>;
let clubA: { id: number };
let clubB: { id: number };

beforeAll(async () => {
  s = await startTestApp(); // WEBHOOK_ALLOW_PRIVATE unset: private addresses are refused
  clubA = await makeClub(s.db, "Alpha");
  clubB = await makeClub(s.db, "Bravo");
  const people: Record<Role, { email: string }> = {
    member: await makeUser(s.db),
    officerA: await makeUser(s.db, { level: "EDIT", orgId: clubA.id }),
    viewerA: await makeUser(s.db, { level: "VIEW", orgId: clubA.id }),
    officerB: await makeUser(s.db, { level: "EDIT", orgId: clubB.id }),
    financeViewer: await makeUser(s.db, { level: "VIEW" }),
    financeEditor: await makeUser(s.db, { level: "EDIT" }),
  };
  for (const [role, u] of Object.entries(people) as [Role, { email: string }][]) {
    agents[role] = (await signIn(s.app, u.email)).agent;
  }
});
afterAll(() => s.close());

/** The add form as the page renders it: its CSRF token and the organisation choices offered. */
async function addForm(agent: TestAgent) {
  const page = await agent.get("/payments/webhooks").expect(200);
  const options = [...page.text.matchAll(/<option value="(\d*)"/g)].map((m) => m[1]!);
  const events = [...page.text.matchAll(/name="events" id="[^"]+" value="([^"]+)"/g)].map((m) => m[1]!);
  return { csrf: csrfFrom(page.text), options, events, html: page.text };
}

async function addEndpoint(agent: TestAgent, fields: { organisation: string; url: string; events: string[] }) {
  const { csrf } = await addForm(agent);
  return agent
    .post("/payments/webhooks")
    .type("form")
    .send(
      [
        `_csrf=${encodeURIComponent(csrf)}`,
        `organisation=${fields.organisation}`,
        `url=${encodeURIComponent(fields.url)}`,
        "description=Scoring",
        ...fields.events.map((e) => `events=${encodeURIComponent(e)}`),
      ].join("&"),
    );
}

const PUBLIC_URL = "http://93.184.216.34/bridge-hooks";

test("who may open the page", async () => {
  const anonymous = await request(s.app).get("/payments/webhooks");
  expect(anonymous.status).toBe(302);
  const statuses = Object.fromEntries(
    await Promise.all(
      (Object.keys(agents) as Role[]).map(async (r) => [r, (await agents[r].get("/payments/webhooks")).status]),
    ),
  );
  expect(statuses).toEqual({
    member: 403,
    officerA: 200,
    viewerA: 403,
    officerB: 200,
    financeViewer: 403,
    financeEditor: 200,
  });
});

test("the form offers an officer only their own club; finance editors also federation-wide", async () => {
  const a = await addForm(agents.officerA);
  expect(a.options).toEqual([String(clubA.id)]);
  expect(a.events).toEqual([
    "charge.succeeded",
    "charge.failed",
    "checkout.completed",
    "checkout.expired",
    "iou.created",
    "iou.paid",
    "iou.cancelled",
    "refund.succeeded",
  ]);
  const f = await addForm(agents.financeEditor);
  expect(f.options).toEqual(expect.arrayContaining(["", String(clubA.id), String(clubB.id)]));
});

test("bad input is refused with a message and creates nothing; private addresses are refused", async () => {
  const count = () => s.db.webhookEndpoint.count();
  const before = await count();
  const org = String(clubA.id);
  const cases: [Parameters<typeof addEndpoint>[1], number, RegExp][] = [
    [{ organisation: org, url: PUBLIC_URL, events: [] }, 400, /Choose at least one event/],
    [{ organisation: org, url: PUBLIC_URL, events: ["charge.refunded"] }, 400, /Choose events from the list/],
    [{ organisation: org, url: "not a url", events: ["iou.paid"] }, 400, /full URL/],
    [{ organisation: org, url: "http://127.0.0.1:4700/hooks", events: ["iou.paid"] }, 400, /private, loopback/],
    [{ organisation: org, url: "http://[::1]/hooks", events: ["iou.paid"] }, 400, /private, loopback/],
    [{ organisation: org, url: "http://169.254.169.254/", events: ["iou.paid"] }, 400, /private, loopback/],
    // Another club's, or federation-wide, from a club officer.
    [{ organisation: String(clubB.id), url: PUBLIC_URL, events: ["iou.paid"] }, 403, /clubs where you are/],
    [{ organisation: "", url: PUBLIC_URL, events: ["iou.paid"] }, 403, /federation finance editors/],
  ];
  for (const [fields, status, message] of cases) {
    const res = await addEndpoint(agents.officerA, fields);
    expect([fields.url, res.status]).toEqual([fields.url, status]);
    expect(res.text).toMatch(message);
  }
  expect(await count()).toBe(before);
});

test("an officer adds, sees the secret once, shows it again, disables and deletes their club's endpoint", async () => {
  const created = await addEndpoint(agents.officerA, {
    organisation: String(clubA.id),
    url: PUBLIC_URL,
    events: ["iou.created", "iou.paid"],
  });
  expect(created.status).toBe(201);
  const secret = /<code id="secret">(whsec_[0-9a-f]{64})<\/code>/.exec(created.text)?.[1];
  expect(secret).toBeDefined();
  const endpoint = await s.db.webhookEndpoint.findFirstOrThrow({ where: { organisationId: clubA.id } });
  expect(endpoint).toMatchObject({ url: PUBLIC_URL, eventTypes: ["iou.created", "iou.paid"], secret, enabled: true });

  const page = await agents.officerA.get(`/payments/webhooks/${endpoint.id}`).expect(200);
  expect(page.text).not.toContain(secret!);
  const shown = await agents.officerA
    .post(`/payments/webhooks/${endpoint.id}/secret`)
    .type("form")
    .send({ _csrf: csrfFrom(page.text) })
    .expect(200);
  expect(shown.text).toContain(secret!);
  expect(shown.headers["cache-control"]).toBe("no-store");

  await agents.officerA
    .post(`/payments/webhooks/${endpoint.id}/disable`)
    .type("form")
    .send({ _csrf: csrfFrom(page.text) })
    .expect(302);
  expect((await s.db.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } })).enabled).toBe(false);

  const confirm = await agents.officerA.get(`/payments/webhooks/${endpoint.id}/delete`).expect(200);
  await agents.officerA
    .post(`/payments/webhooks/${endpoint.id}/delete`)
    .type("form")
    .send({ _csrf: csrfFrom(confirm.text) })
    .expect(302);
  expect(await s.db.webhookEndpoint.count({ where: { id: endpoint.id } })).toBe(0);
});

test("club B's officer can neither see nor touch club A's endpoint or deliveries", async () => {
  const res = await addEndpoint(agents.officerA, {
    organisation: String(clubA.id),
    url: PUBLIC_URL,
    events: ["charge.succeeded"],
  });
  expect(res.status).toBe(201);
  const endpoint = await s.db.webhookEndpoint.findFirstOrThrow({ where: { organisationId: clubA.id } });
  const event = await s.db.outboundEvent.create({
    data: { publicId: "evt_pagesdelivery0000000001", type: "charge.succeeded", organisationId: clubA.id, payload: {} },
  });
  const delivery = await s.db.webhookDelivery.create({
    data: { eventId: event.id, endpointId: endpoint.id, status: "failed", attempts: 13, lastResponseCode: 503 },
  });

  const listB = await agents.officerB.get("/payments/webhooks").expect(200);
  expect(listB.text).not.toContain(PUBLIC_URL);
  const csrfB = csrfFrom(listB.text);
  await agents.officerB.get(`/payments/webhooks/${endpoint.id}`).expect(404);
  await agents.officerB.get(`/payments/webhooks/${endpoint.id}/delete`).expect(404);
  for (const path of ["secret", "disable", "enable", "delete"]) {
    const r = await agents.officerB
      .post(`/payments/webhooks/${endpoint.id}/${path}`)
      .type("form")
      .send({ _csrf: csrfB });
    expect([path, r.status]).toEqual([path, 404]);
    expect(r.text).not.toContain(endpoint.secret);
  }
  await agents.officerB
    .post(`/payments/webhooks/deliveries/${delivery.id}/resend`)
    .type("form")
    .send({ _csrf: csrfB })
    .expect(404);
  const after = await s.db.webhookDelivery.findUniqueOrThrow({ where: { id: delivery.id } });
  expect(after).toMatchObject({ status: "failed", resendRequestedAt: null });
  expect((await s.db.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } })).enabled).toBe(true);

  // Finance editors see every endpoint; club A's officer sees the delivery and re-sends it.
  expect((await agents.financeEditor.get("/payments/webhooks").expect(200)).text).toContain(PUBLIC_URL);
  const page = await agents.officerA.get(`/payments/webhooks/${endpoint.id}`).expect(200);
  expect(page.text).toContain("evt_pagesdelivery0000000001");
  expect(page.text).toMatch(/Failed<\/span><\/td>\s*<td class="text-end">13<\/td>\s*<td>503/);
  const action = new RegExp(`action="(/payments/webhooks/deliveries/${delivery.id}/resend)"`).exec(page.text)?.[1];
  await agents.officerA
    .post(action!)
    .type("form")
    .send({ _csrf: csrfFrom(page.text) })
    .expect(302);
  const resent = await s.db.webhookDelivery.findUniqueOrThrow({ where: { id: delivery.id } });
  expect(resent.status).toBe("pending");
  expect(resent.resendRequestedAt).toBeInstanceOf(Date);
});
