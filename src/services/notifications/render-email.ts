// Renders a notification from its template in views/emails (docs/emails.md) three ways, from the same file:
//  - "email": the HTML part, inline styles only (mail clients drop style sheets), inside the e-mail layout;
//  - "text": the plain-text alternative (no escaping: it is not HTML);
//  - "page": the same content for the Messages page, with the site's classes instead of inline styles (the
//    page's Content-Security-Policy refuses style attributes).
// HTML is autoescaped, so a name like "<script>" or "A & B" arrives as text. A row written before templates
// (no data) is rendered by the "message" template from its subject, body and link.
import path from "node:path";
import nunjucks from "nunjucks";
import type { Config } from "../../config";
import { dateTimeFormat } from "../../lib/intl-cache";
import { formatMoney } from "../../lib/money";
import { projectRoot } from "../../lib/paths";
import { EMAIL_TEMPLATES } from "./email-templates";

export const EMAIL_VIEWS = path.join(projectRoot, "views", "emails");

/** What a template needs of a notification (a stored row, or a registry sample). */
export interface RenderableNotification {
  subject: string;
  body: string;
  linkUrl: string | null;
  linkText: string | null;
  data: unknown;
}

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
  /** The content alone as the Messages page shows it (no layout, the site's classes). */
  page: string;
}

type Mode = "email" | "text" | "page";

export interface EmailRendererOptions {
  federationName: string;
  /** Base of absolute links, e.g. https://payments.example.org */
  publicUrl: string;
  timeZone: string;
  /** Re-read templates on every render (development). */
  watch?: boolean;
}

/** The template a notification is rendered with: its data's, when that template exists; else "message". */
export function templateOf(n: Pick<RenderableNotification, "data">): string {
  const d = n.data as { template?: unknown } | null | undefined;
  const name = typeof d?.template === "string" ? d.template : "";
  return Object.hasOwn(EMAIL_TEMPLATES, name) ? name : "message";
}

export function createEmailRenderer(o: EmailRendererOptions) {
  const when = dateTimeFormat("en-AU", { timeZone: o.timeZone, dateStyle: "medium" });
  const money = (c: unknown) => {
    if (typeof c !== "string" && typeof c !== "number" && typeof c !== "bigint") return "";
    try {
      return formatMoney(BigInt(c));
    } catch {
      return "";
    }
  };
  const env = (mode: Mode) => {
    const e = new nunjucks.Environment(new nunjucks.FileSystemLoader(EMAIL_VIEWS, { noCache: !!o.watch }), {
      autoescape: mode !== "text",
      throwOnUndefined: false,
    });
    e.addGlobal("mode", mode);
    e.addGlobal("federation", o.federationName);
    e.addFilter("money", money);
    e.addFilter("day", (d: unknown) => (typeof d === "string" || d instanceof Date ? when.format(new Date(d)) : ""));
    // Text paragraphs are written across several template lines: one line each in the text part.
    // (A macro's caller() output is already escaped: it stays marked safe, or it would be escaped twice.)
    e.addFilter("squash", (s: unknown) => {
      const out = String(s ?? "")
        .replace(/\s+/g, " ")
        .trim();
      return s instanceof nunjucks.runtime.SafeString ? new nunjucks.runtime.SafeString(out) : out;
    });
    return e;
  };
  const envs: Record<Mode, nunjucks.Environment> = { email: env("email"), text: env("text"), page: env("page") };

  const absolute = (url: string) => new URL(url, o.publicUrl).toString();

  // Links on the page stay relative to the site; in an e-mail they are absolute.
  const context = (n: RenderableNotification, mode: Mode) => {
    const name = templateOf(n);
    const url = mode === "page" ? (u: string) => u : absolute;
    return {
      file: `${name}.njk`,
      d: (name === "message" ? {} : n.data) as Record<string, unknown>,
      n,
      link: n.linkUrl ? { url: url(n.linkUrl), text: n.linkText ?? "Open" } : null,
      messagesUrl: url("/payments/messages"),
      absolute: url,
    };
  };

  /** The content as the Messages page shows it: the same template and words as the e-mail. */
  function renderPage(n: RenderableNotification): string {
    const c = context(n, "page");
    return envs.page.render(c.file, c);
  }

  function render(n: RenderableNotification): RenderedEmail {
    const e = context(n, "email");
    const content = new nunjucks.runtime.SafeString(envs.email.render(e.file, e));
    const t = context(n, "text");
    const text = tidyText(envs.text.render("_layout-text.njk", { ...t, content: envs.text.render(t.file, t) }));
    return { subject: n.subject, html: envs.email.render("_layout.njk", { ...e, content }), text, page: renderPage(n) };
  }

  return { render, renderPage };
}

/** Template whitespace out of the text part: no trailing spaces, at most one blank line in a row. */
function tidyText(s: string) {
  return `${s
    .split("\n")
    .map((l) => l.trimEnd())
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim()}\n`;
}

export type EmailRenderer = ReturnType<typeof createEmailRenderer>;

/** The renderer the configuration asks for (the app's pages and the mailer use the same). */
export function emailRendererFor(
  config: Pick<Config, "FEDERATION_NAME" | "PUBLIC_URL" | "PORT" | "TIME_ZONE" | "NODE_ENV">,
) {
  return createEmailRenderer({
    federationName: config.FEDERATION_NAME,
    publicUrl: config.PUBLIC_URL ?? `http://localhost:${config.PORT}`,
    timeZone: config.TIME_ZONE,
    watch: config.NODE_ENV === "development",
  });
}
