// Outbound webhook endpoints and their deliveries (issue 16). Finance editors manage every endpoint, club
// officers with EDIT those of their clubs; the service layer checks the actor on every call (services/
// webhooks-out/endpoints.ts), and these routes only parse, call and render.
import { type Request, type Response, Router } from "express";
import { requireLogin } from "../../auth/guards";
import type { Db } from "../../db/client";
import { AppError, forbidden } from "../../lib/errors";
import { listDeliveries, requestResend } from "../../services/webhooks-out/deliveries";
import {
  type Actor,
  createEndpoint,
  deleteEndpoint,
  getEndpoint,
  listEndpoints,
  managedOrganisations,
  setEndpointEnabled,
} from "../../services/webhooks-out/endpoints";
import { EVENT_TYPES } from "../../services/webhooks-out/event-types";
import type { UrlPolicy } from "../../services/webhooks-out/url-check";
import { flash } from "../../web/flash";

const actorOf = (req: Request): Actor => ({ userId: req.user!.id, permissions: req.user!.permissions });
const idParam = (req: Request) => (/^\d{1,9}$/.test(String(req.params.id)) ? Number(req.params.id) : -1);
const asList = (v: unknown) => (Array.isArray(v) ? v.map(String) : v === undefined ? [] : [String(v)]);

export function webhookEndpointRoutes(deps: { db: Db; urlPolicy: UrlPolicy }) {
  const r = Router();
  const db = deps.db;
  // Signed in, and an editor of payments somewhere (finance, or a club).
  const manager = [
    requireLogin,
    (req: Request, _res: Response, next: (e?: unknown) => void) => {
      const orgs = managedOrganisations(actorOf(req));
      next(orgs === "all" || orgs.length > 0 ? undefined : forbidden("This page is for payments editors."));
    },
  ];

  /** Organisations the form offers: every one for finance editors (plus federation-wide), else the user's clubs. */
  const organisationsFor = async (actor: Actor) => {
    const orgs = managedOrganisations(actor);
    return db.organisation.findMany({
      where: orgs === "all" ? {} : { id: { in: orgs } },
      orderBy: { name: "asc" },
      select: { id: true, name: true, clubNumber: true },
    });
  };

  const listPage = async (req: Request, form: Record<string, unknown> = {}, error?: string) => {
    const actor = actorOf(req);
    const [endpoints, organisations] = await Promise.all([listEndpoints(db, actor), organisationsFor(actor)]);
    const names = new Map(organisations.map((o) => [o.id, `${o.name} (${o.clubNumber})`]));
    return {
      endpoints: endpoints.map((e) => ({
        ...e,
        owner: e.organisationId === null ? "Federation-wide" : (names.get(e.organisationId) ?? ""),
      })),
      organisations,
      federationWide: managedOrganisations(actor) === "all",
      eventTypes: EVENT_TYPES,
      form: { events: [], ...form },
      error,
    };
  };

  const endpointPage = async (req: Request, id: number, withSecret = false) => {
    const actor = actorOf(req);
    const before = /^\d{1,18}$/.test(String(req.query.before ?? "")) ? BigInt(String(req.query.before)) : undefined;
    const [endpoint, deliveries] = await Promise.all([
      getEndpoint(db, actor, id, { withSecret }),
      listDeliveries(db, actor, id, before),
    ]);
    const org =
      endpoint.organisationId === null
        ? null
        : await db.organisation.findUnique({ where: { id: endpoint.organisationId }, select: { name: true } });
    return { endpoint, owner: org?.name ?? "Federation-wide", deliveries };
  };

  r.get("/payments/webhooks", ...manager, async (req, res) => {
    res.render("orgs/webhooks", await listPage(req));
  });

  r.post("/payments/webhooks", ...manager, async (req, res) => {
    const b = req.body ?? {};
    const form = {
      organisation: String(b.organisation ?? ""),
      url: String(b.url ?? ""),
      description: String(b.description ?? ""),
      events: asList(b.events),
    };
    let created: Awaited<ReturnType<typeof createEndpoint>>;
    try {
      created = await createEndpoint(
        db,
        actorOf(req),
        {
          organisationId: form.organisation === "" ? null : (form.organisation as unknown as number),
          url: form.url,
          description: form.description,
          eventTypes: form.events as never,
        },
        deps.urlPolicy,
      );
    } catch (e) {
      if (!(e instanceof AppError) || e.status >= 500) throw e;
      return res.status(e.status).render("orgs/webhooks", await listPage(req, form, e.message));
    }
    req.log.info({ actor: req.user!.id, endpointId: created.id, url: created.url }, "webhook endpoint added");
    // Rendered, not redirected: the secret is shown now and never kept in the session.
    res
      .status(201)
      .render("orgs/webhook-endpoint", { ...(await endpointPage(req, created.id, true)), justCreated: true });
  });

  r.get("/payments/webhooks/:id", ...manager, async (req, res) => {
    res.render("orgs/webhook-endpoint", await endpointPage(req, idParam(req)));
  });

  r.post("/payments/webhooks/:id/secret", ...manager, async (req, res) => {
    const page = await endpointPage(req, idParam(req), true);
    req.log.info({ actor: req.user!.id, endpointId: page.endpoint.id }, "webhook endpoint secret shown");
    res.setHeader("Cache-Control", "no-store");
    res.render("orgs/webhook-endpoint", page);
  });

  for (const [action, enabled] of [
    ["enable", true],
    ["disable", false],
  ] as const) {
    r.post(`/payments/webhooks/:id/${action}`, ...manager, async (req, res) => {
      await setEndpointEnabled(db, actorOf(req), idParam(req), enabled);
      flash(req, "success", enabled ? "Endpoint enabled" : "Endpoint disabled");
      res.redirect(`/payments/webhooks/${idParam(req)}`);
    });
  }

  r.get("/payments/webhooks/:id/delete", ...manager, async (req, res) => {
    res.render("orgs/webhook-endpoint-delete", { endpoint: await getEndpoint(db, actorOf(req), idParam(req)) });
  });

  r.post("/payments/webhooks/:id/delete", ...manager, async (req, res) => {
    await deleteEndpoint(db, actorOf(req), idParam(req));
    req.log.info({ actor: req.user!.id, endpointId: idParam(req) }, "webhook endpoint deleted");
    flash(req, "success", "Endpoint deleted");
    res.redirect("/payments/webhooks");
  });

  r.post("/payments/webhooks/deliveries/:id/resend", ...manager, async (req, res) => {
    const id = /^\d{1,18}$/.test(String(req.params.id)) ? BigInt(String(req.params.id)) : -1n;
    const { endpointId, endpointEnabled } = await requestResend(db, actorOf(req), id);
    flash(
      req,
      endpointEnabled ? "success" : "warning",
      endpointEnabled ? "Delivery queued again" : "Delivery queued again; it will fail while the endpoint is disabled",
    );
    res.redirect(`/payments/webhooks/${endpointId}`);
  });

  return r;
}
