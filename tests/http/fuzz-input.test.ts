// Property-based fuzzing of every route that takes input (issue 15). The routes and their field names come from
// the app's own router (the input layer records what each declares), not from a hand list. Each request is sent
// as finance staff who may use every route, with a valid session and CSRF token, so it reaches the handler. For
// arbitrary strings (NUL, unicode, huge), numbers, arrays and nested objects (incl. {"toString": "x"} and
// __proto__) as urlencoded and JSON bodies, queries and path segments, the app must never answer 5xx, never
// show a stack trace, and never change the ledger when it refused the request; the ledger's invariants hold.
import fc from "fast-check";
import type TestAgent from "supertest/lib/agent";
import { type DeclaredInput, INPUT_LAYER } from "../../src/web/input";
import { csrfToken, makeClub, makeUser, signIn } from "../helpers/app";
import { type CardStack, startCardStack, topUpByCard } from "../helpers/card-stack";
import { fundMember, fundOrganisation, ledgerSnapshot, violations } from "../helpers/payments";
import { appRoutes } from "../helpers/routes";

// Bounded so the whole file stays well under a minute in CI; FUZZ_RUNS raises it for a longer local hunt.
const RUNS = Number(process.env.FUZZ_RUNS ?? 10);
// Signing out would end the session every other request uses.
const SKIP = new Set(["/logout"]);

let s: CardStack;
let agent: TestAgent;
let token: string;
const known: Record<string, string> = {};

beforeAll(async () => {
  s = await startCardStack();
  const finance = await makeUser(s.p.db, { level: "EDIT", firstName: "Fuzz" });
  agent = (await signIn(s.app, finance.email)).agent;
  token = await csrfToken(agent, "/dashboard");
  const member = await makeUser(s.p.db);
  const club = await makeClub(s.p.db, "Fuzz");
  await fundMember(s.p, member.id, 50_000n, finance.id);
  await fundMember(s.p, finance.id, 50_000n, member.id);
  await fundOrganisation(s.p, club.id, 50_000n, finance.id);
  const card = await topUpByCard(s, member.id, 6_000n);
  // Real ids for path parameters, so some requests go past "not found" into the handler.
  Object.assign(known, {
    id: String(card),
    orgId: String(club.id),
    memberId: String(member.id),
    eventId: "evt_unknown",
    type: "manual_adjust",
    range: "30",
    abf: String(member.systemNumber),
    member: String(member.systemNumber),
    organisation: String(club.id),
    to: String(member.id),
  });
});
afterAll(() => s.close());

// --- what is sent --------------------------------------------------------------------------------------------
const hostileText = fc.constantFrom(
  "",
  " ",
  "a\u0000b",
  "\u0000",
  "%00",
  "\u202e\u0007\u001b[0m",
  "\ud800",
  "💳 Zoë",
  "x".repeat(5000),
  "0x10",
  "+5",
  " 5 ",
  "1e2",
  "-1",
  "99999999999",
  "2147483648",
  "NaN",
  "Infinity",
  "12.345",
  "10.00",
  "5",
  "on",
  "confirm",
  "review",
  "export",
  "csv",
  "xlsx",
  "2026-02-30",
  "2026-01-31",
  "Manual Adjustment",
  "Settlement",
  "constructor",
  "__proto__",
  "toString",
);
const text = fc.oneof(
  hostileText,
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
);
const leaf = fc.oneof(
  text,
  fc.integer(),
  fc.double(),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map((b) => Number(b)),
  fc.boolean(),
  fc.constant(null),
);
const nested = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small", withCrossShrink: true }, leaf, tie("array"), tie("object")),
  array: fc.array(tie("value"), { maxLength: 3 }),
  object: fc.oneof(
    fc.dictionary(fc.oneof(text, fc.constantFrom("__proto__", "toString", "valueOf")), tie("value"), { maxKeys: 3 }),
    fc.constant({ toString: "x" }),
    fc.constant({ toString: "x", valueOf: "y" }),
    fc.constant(JSON.parse('{"__proto__": {"toString": "x", "isAdmin": true}}')),
  ),
})).value;

/** A value for a declared field: mostly text (what forms send), sometimes anything JSON can hold. */
const valueFor = (name: string) =>
  fc.oneof(
    { weight: 2, arbitrary: known[name] ? fc.constant(known[name]) : text },
    { weight: 3, arbitrary: text },
    { weight: 2, arbitrary: nested },
  );

/** A form: each declared field present or not, plus a few stray keys. */
function formFor(names: string[]) {
  return fc
    .tuple(
      fc.record(Object.fromEntries(names.map((n) => [n, valueFor(n)])), { requiredKeys: [] }),
      fc.dictionary(text, nested, { maxKeys: 2 }),
    )
    .map(([declared, extra]) => ({ ...extra, ...declared }) as Record<string, unknown>);
}

/** urlencoded can only say text (or a repeated key): other values are sent as their JSON text. */
function urlencoded(form: Record<string, unknown>) {
  const out = new URLSearchParams();
  for (const [k, v] of Object.entries(form)) {
    if (Array.isArray(v)) for (const x of v) out.append(k, typeof x === "string" ? x : JSON.stringify(x));
    else out.append(k, typeof v === "string" ? v : JSON.stringify(v));
  }
  return out.toString();
}

/** Percent-encodes every byte of the UTF-8 (a lone surrogate becomes U+FFFD, as a browser would send it). */
const pct = (t: string) => [...Buffer.from(t, "utf8")].map((b) => `%${b.toString(16).padStart(2, "0")}`).join("");

const segment = (name: string) =>
  fc.oneof(
    { weight: 2, arbitrary: fc.constant(known[name] ?? "1").map(pct) },
    { weight: 3, arbitrary: text.filter((t) => t !== "").map(pct) },
    { weight: 1, arbitrary: fc.constantFrom("%00", "%", "%zz", "..", "%2e%2e", "%ff") },
  );

// --- what must hold ------------------------------------------------------------------------------------------
const STACK = /\bat [\w$.<>]+ \(|node_modules\/|\.ts:\d+:\d+|\bTypeError\b|\bPrismaClient|invalid byte sequence/;

async function check(method: "get" | "post", url: string, body?: { json: boolean; form: Record<string, unknown> }) {
  const before = await ledgerSnapshot(s.p);
  let req = agent[method](url).redirects(0);
  if (body?.json)
    req = req.set("Content-Type", "application/json").send(JSON.stringify({ ...body.form, _csrf: token }));
  else if (body) req = req.type("form").send(`${urlencoded(body.form)}&_csrf=${encodeURIComponent(token)}`);
  const res = await req;
  const problems: string[] = [];
  tally[res.status] = (tally[res.status] ?? 0) + 1;
  // The session and token are valid: a request refused as forged never reached its handler.
  if (/did not come from this site/.test(res.text ?? "")) problems.push("refused as forged: never reached its handler");
  if (res.status >= 500) problems.push(`status ${res.status}`);
  const shown = `${res.text ?? ""}${JSON.stringify(res.body ?? "")}`;
  if (STACK.test(shown)) problems.push(`internals shown: ${STACK.exec(shown)![0]}`);
  // A refusal changes nothing; an accepted request (2xx/3xx) may have booked something valid.
  if (res.status >= 400 && (await ledgerSnapshot(s.p)) !== before)
    problems.push(`refused (${res.status}) yet the ledger changed`);
  return problems;
}
const tally: Record<number, number> = {};

function declaredRoutes() {
  return (
    appRoutes(s.app)
      .filter((r) => r.method !== "all" && !SKIP.has(r.path))
      // The payments API (/api/v1) checks its input its own way (problem+json); tests/api covers it.
      .filter((r) => (r.handlers.at(-1) as Record<symbol, unknown>)[INPUT_LAYER])
      .map((r) => ({ ...r, input: (r.handlers.at(-1) as Record<symbol, DeclaredInput>)[INPUT_LAYER]! }))
      .filter((r) => r.method === "post" || r.input.query.length > 0 || r.input.params.length > 0)
  );
}

test("every POST and every GET with a query or path parameters survives arbitrary input", async () => {
  const routes = declaredRoutes();
  expect(routes.filter((r) => r.method === "post").length).toBeGreaterThan(25);
  expect(routes.filter((r) => r.method === "get").length).toBeGreaterThan(15);
  const failures: string[] = [];
  for (const route of routes) {
    const params = route.input.params;
    const pathArb = fc
      .tuple(...params.map((p) => segment(p)))
      .map((segs) => params.reduce((path, p, i) => path.replace(`:${p}`, segs[i]!), route.path));
    const queryArb = formFor(route.input.query).map(urlencoded);
    const bodyArb = route.input.body === "raw" ? fc.constant({}) : formFor(route.input.body);
    const property = fc.asyncProperty(pathArb, queryArb, bodyArb, fc.boolean(), async (path, query, form, json) => {
      const url = query ? `${path}?${query}` : path;
      const problems = await check(
        route.method as "get" | "post",
        url,
        route.method === "post" ? { json, form } : undefined,
      );
      if (problems.length) throw new Error(`${route.method.toUpperCase()} ${url}: ${problems.join("; ")}`);
    });
    const out = await fc.check(property, {
      numRuns: RUNS,
      endOnFailure: true, // no shrinking: each step is a request; the first counterexample is reported as is
      seed: process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined,
    });
    // The invariants are checked once per route (the whole check is a scan of the ledger).
    const broken = await violations(s.p);
    if (broken.length) failures.push(`${route.path}: ledger invariants broken: ${JSON.stringify(broken)}`);
    if (out.failed)
      failures.push(
        `${String(out.errorInstance ?? "")}\n  counterexample: ${fc.stringify(out.counterexample)} (seed ${out.seed})`,
      );
  }
  expect(failures).toEqual([]);
  // Both kinds happened: requests were refused for their input, and some were valid and went through.
  const count = (lo: number, hi: number) =>
    Object.entries(tally).reduce((n, [st, k]) => (Number(st) >= lo && Number(st) < hi ? n + k : n), 0);
  expect(count(400, 401)).toBeGreaterThan(50);
  expect(count(200, 400)).toBeGreaterThan(50);
}, 180_000);
