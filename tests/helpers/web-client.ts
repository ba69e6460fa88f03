// A browser's part in tests that talk to more than one app process: one cookie jar, sent to whichever process a
// request goes to (cookies are not tied to a port), so a session begun on one process is used on another.
import { csrfFrom } from "./app";
import { nextCodeFor } from "./two-factor";

export interface WebResponse {
  status: number;
  text: string;
  location: string | null;
}

export class WebClient {
  private readonly cookies = new Map<string, string>();

  private remember(res: Response) {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(";");
      const eq = pair!.indexOf("=");
      this.cookies.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
  }

  private get cookieHeader() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  async get(url: string): Promise<WebResponse> {
    const res = await fetch(url, { redirect: "manual", headers: { Cookie: this.cookieHeader } });
    this.remember(res);
    return { status: res.status, text: await res.text(), location: res.headers.get("location") };
  }

  async post(url: string, fields: Record<string, string>): Promise<WebResponse> {
    const res = await fetch(url, {
      method: "POST",
      redirect: "manual",
      headers: { Cookie: this.cookieHeader, "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields).toString(),
    });
    this.remember(res);
    return { status: res.status, text: await res.text(), location: res.headers.get("location") };
  }

  /**
   * Signs in through the login form served by `base` (and its two-factor step when the user is enrolled), follows the redirect to the dashboard, as a browser
   * does (the new session's CSRF token is made there; pages opened all at once before that would each make one).
   */
  async signIn(base: string, identifier: string, password: string) {
    const page = await this.get(`${base}/login`);
    let res = await this.post(`${base}/login`, { _csrf: csrfFrom(page.text), identifier, password });
    if (res.status === 302 && res.location === "/login/two-factor") {
      // An enrolled user (staff the tests enrolled): the second step with a real current code.
      const code = await nextCodeFor(identifier);
      if (!code) throw new Error(`${identifier} has two-factor sign-in, but the tests do not know their secret`);
      const step = await this.get(`${base}/login/two-factor`);
      res = await this.post(`${base}/login/two-factor`, { _csrf: csrfFrom(step.text), code });
    }
    if (res.status !== 302 || res.location !== "/dashboard") throw new Error(`sign-in failed: ${res.status}`);
    const dashboard = await this.get(`${base}/dashboard`);
    if (dashboard.status !== 200) throw new Error(`dashboard after sign-in: ${dashboard.status}`);
  }
}
