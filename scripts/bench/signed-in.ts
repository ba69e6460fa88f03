// Signed-in members for the HTTP benchmarks: a password for seeded members (hashed once, stored for all), sign-in
// through the real login form (its CSRF token read from the page), and the session cookie to send afterwards.
import type { Database } from "../../src/db/client";
import { hashPassword } from "../../src/auth/password";

export const BENCH_PASSWORD = "benchmark-password-2026";

/** Gives `userIds` the benchmark password (one argon2 hash, shared: sign-in still verifies it each time). */
export async function setBenchPassword(db: Database, userIds: number[]) {
  await db.pool.query("UPDATE users SET password_hash = $2 WHERE id = ANY($1::int[])", [
    userIds,
    await hashPassword(BENCH_PASSWORD),
  ]);
}

/** The hidden fields of the first form in `html` whose action is `action` (or of the page when none matches). */
export function hiddenFields(html: string, action?: string): Record<string, string> {
  const form = action ? (html.match(new RegExp(`<form[^>]*action="${action}"[\\s\\S]*?</form>`))?.[0] ?? html) : html;
  const out: Record<string, string> = {};
  for (const m of form.matchAll(/<input[^>]*type="hidden"[^>]*>/g)) {
    const name = /name="([^"]*)"/.exec(m[0])?.[1];
    const value = /value="([^"]*)"/.exec(m[0])?.[1] ?? "";
    if (name)
      out[name] = value
        .replace(/&amp;/g, "&")
        .replace(/&#39;/g, "'")
        .replace(/&quot;/g, '"');
  }
  return out;
}

const sessionCookie = (res: Response) =>
  res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0]!)
    .find((c) => c.startsWith("bc.sid="));

/** Signs in through /login as a browser would; answers the `Cookie` header value of the signed-in session. */
export async function signIn(base: string, identifier: string | number): Promise<string> {
  const page = await fetch(`${base}/login`);
  const cookie = sessionCookie(page);
  const fields = hiddenFields(await page.text(), "/login");
  const res = await fetch(`${base}/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", ...(cookie ? { cookie } : {}) },
    body: new URLSearchParams({ ...fields, identifier: String(identifier), password: BENCH_PASSWORD }),
  });
  const signedIn = sessionCookie(res) ?? cookie;
  if (res.status !== 302 || res.headers.get("location") !== "/dashboard" || !signedIn) {
    throw new Error(`sign-in of ${identifier} failed: ${res.status} ${await res.text()}`);
  }
  return signedIn;
}
