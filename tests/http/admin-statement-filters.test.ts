// Finance staff filter a member's statement as the member can: by dates and type, the filters kept by the "Older"
// and "Newest" links and by the CSV download, and a refused filter shown with its message above the whole
// statement. The links are read from the page as rendered. (A new user's trial found "Older" and the CSV link
// of a filtered admin statement going back to the unfiltered statement.)
import { parse } from "csv-parse/sync";
import type TestAgent from "supertest/lib/agent";
import { memberWithEntries } from "../../scripts/bench/member-with-entries";
import { makeUser, signIn, startTestApp, type TestApp } from "../helpers/app";

let t: TestApp;
let viewer: TestAgent;
let memberId: number;
beforeAll(async () => {
  t = await startTestApp();
  viewer = (await signIn(t.app, (await makeUser(t.db, { level: "VIEW" })).email)).agent;
  // 80 lines alternating Manual Top Up (odd, reference B1, B3…) and Club Payment (even), one a minute.
  memberId = await memberWithEntries(t.database, "filtered", 80);
});
afterAll(() => t.close());

const html = (s: string) => s.replace(/&amp;/g, "&");
/** The href of the link whose text is `text`. */
const link = (page: string, text: string) => html(new RegExp(`href="([^"]*)"[^>]*>${text}</a>`).exec(page)?.[1] ?? "");
/** The statement's lines on a page: [type, reference]. */
const lines = (page: string) =>
  [...page.matchAll(/<td>(Manual Top Up|Club Payment)<\/td>[\s\S]*?Ref (B\d+)/g)].map((m) => [m[1]!, m[2]!]);

test("the type filter holds through Older, Newest and the CSV download", async () => {
  const first = await viewer.get(`/payments/statement-admin-view/${memberId}`).query({ type: "Club Payment" });
  expect(first.status).toBe(200);
  const page1 = lines(first.text);
  expect(page1).toHaveLength(30);
  expect(page1.every(([type]) => type === "Club Payment")).toBe(true);
  expect(page1[0]).toEqual(["Club Payment", "B80"]);
  expect(first.text).toContain("<option selected>Club Payment</option>");

  const older = link(first.text, "Older");
  expect(older).toMatch(/type=Club\+Payment/);
  const second = await viewer.get(older);
  expect(second.status).toBe(200);
  const page2 = lines(second.text);
  // The 40 Club Payment lines are B80, B78 … B2: page 2 holds the last ten, with no gap and no repeat.
  expect(page2.map(([, ref]) => ref)).toEqual(Array.from({ length: 10 }, (_, i) => `B${20 - 2 * i}`));
  expect(page2.every(([type]) => type === "Club Payment")).toBe(true);
  expect(link(second.text, "Older")).toBe("");
  const newest = await viewer.get(link(second.text, "Newest"));
  expect(lines(newest.text)).toEqual(page1);

  const csvLink = link(first.text, "Download as CSV");
  expect(csvLink).toMatch(/^\/payments\/statement-csv\/\d+\?type=Club\+Payment$/);
  const file = await viewer.get(csvLink).buffer(true);
  expect(file.status).toBe(200);
  const rows = parse(file.text, { relax_column_count: true, bom: true }) as string[][];
  const body = rows.slice(1).filter((r) => r.some((c) => c === "Club Payment" || c === "Manual Top Up"));
  expect(body).toHaveLength(40);
  expect(body.every((r) => r.includes("Club Payment"))).toBe(true);
});

test("a date filter with no lines says so; a refused filter shows its message above the whole statement", async () => {
  const none = await viewer.get(`/payments/statement-admin-view/${memberId}`).query({ to: "2001-01-01" });
  expect(none.status).toBe(200);
  expect(none.text).toContain("No transactions match these filters.");

  const bad = await viewer.get(`/payments/statement-admin-view/${memberId}`).query({ from: "xx" });
  expect(bad.status).toBe(400);
  expect(bad.text).toMatch(/class="alert alert-danger" role="alert">From date[^<]*YYYY-MM-DD/);
  expect(lines(bad.text)).toHaveLength(30); // the unfiltered statement, newest first
  expect(lines(bad.text)[0]).toEqual(["Club Payment", "B80"]);

  expect((await viewer.get("/payments/statement-admin-view/abc").query({ from: "xx" })).status).toBe(404);
});
