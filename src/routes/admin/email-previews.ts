// /payments/email-previews: finance editors see every e-mail template rendered with sample data, as HTML and as
// plain text (docs/emails.md). The list comes from the template registry. The HTML is shown in a sandboxed
// iframe from its own address, whose Content-Security-Policy allows inline styles (e-mails need them) and
// nothing else: no scripts, no requests; the site's own pages keep their strict policy.
import type { Response } from "express";
import { z } from "zod";
import { requireGlobal } from "../../auth/guards";
import { notFound } from "../../lib/errors";
import { EMAIL_TEMPLATES } from "../../services/notifications/email-templates";
import type { EmailRenderer } from "../../services/notifications/render-email";
import { inputRouter } from "../../web/input";

const PREVIEW_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox";

export function emailPreviewRoutes(deps: { emails: EmailRenderer }) {
  const r = inputRouter();
  const guard = requireGlobal("EDIT");
  const one = { guard, params: z.object({ name: z.string().max(100) }) };
  const preview = (name: string) => {
    if (!Object.hasOwn(EMAIL_TEMPLATES, name)) throw notFound("There is no e-mail template of that name.");
    const t = EMAIL_TEMPLATES[name]!;
    return { name, ...t, mail: deps.emails.render(t.sample()) };
  };

  r.get("/payments/email-previews", { guard }, (_req, res) => {
    const templates = Object.entries(EMAIL_TEMPLATES).map(([name, t]) => ({ name, title: t.title, kind: t.kind }));
    res.render("admin/email-previews", { templates });
  });
  r.get("/payments/email-previews/:name", one, (_req, res, { params }) => {
    // The page frames its own preview document, and nothing else beyond what the site already allows.
    allowSelfFrame(res);
    res.render("admin/email-preview", { t: preview(params.name) });
  });
  r.get("/payments/email-previews/:name/html", one, (_req, res, { params }) => {
    const { mail } = preview(params.name);
    res.setHeader("Content-Security-Policy", PREVIEW_CSP);
    res.setHeader("X-Frame-Options", "SAMEORIGIN");
    res.type("html").send(mail.html);
  });
  return r.router;
}

function allowSelfFrame(res: Response) {
  const csp = String(res.getHeader("Content-Security-Policy") ?? "");
  if (csp) res.setHeader("Content-Security-Policy", csp.replace("frame-src ", "frame-src 'self' "));
}
