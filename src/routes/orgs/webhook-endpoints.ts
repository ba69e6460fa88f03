// Outbound webhook endpoints and their deliveries (issue 16). Finance editors manage every endpoint, club
// officers with EDIT those of their clubs; the service layer checks the actor on every call (services/
// webhooks-out/endpoints.ts), and these routes only parse, call and render.
import { auditActor } from "../../web/audit-actor";
import type { Request, Response } from "express";
import { z } from "zod";
import { requireLogin, requireSecondFactor } from "../../auth/guards";
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
  revealEndpointSecret,
  setEndpointEnabled,
} from "../../services/webhooks-out/endpoints";
import { EVENT_TYPES } from "../../services/webhooks-out/event-types";
import type { UrlPolicy } from "../../services/webhooks-out/url-check";
import { flash } from "../../web/flash";
import { fields, inputRouter, optional, textValues } from "../../web/input";

const actorOf = (req: Request): Actor => ({ userId: req.user!.id, permissions: req.user!.permissions });
const idParams = z.object({ id: fields.id("Endpoint") });
const deliveryParams = z.object({ id: fields.bigId("Delivery") });
const endpointBody = z.object({
  organisation: optional(fields.id("Organisation")),
  url: fields.text("URL", { max: 2000 }),
  description: optional(fields.text("Description", { max: 200 })),
  // Which events exist is the service's rule; here each must be text.
  events: fields.list("Events", fields.text("Event", { max: 100 })),
});
const deliveriesQuery = z.object({ before: optional(fields.bigId("Page position")) });

export function webhookEndpointRoutes(deps: { db: Db; urlPolicy: UrlPolicy }) {
  const r = inputRouter();
  const db = deps.db;
  // Signed in, and an editor of payments somewhere (finance, or a club).
  const manager = [
    requireLogin,
    (req: Request, _res: Response, next: (e?: unknown) => void) => {
      const orgs = managedOrganisations(actorOf(req));
      next(orgs === "all" || orgs.length > 0 ? undefined : forbidden("This page is for payments editors."));
    },
    requireSecondFactor,
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

  /**
   * The endpoint's page; its secret just after it was created (the creation's audit row covers it) or when an
   * editor asks to see it (recorded as it is read).
   */
  const endpointPage = async (req: Request, id: number, secret?: "created" | "revealed", before?: bigint) => {
    const actor = actorOf(req);
    const [endpoint, deliveries] = await Promise.all([
      secret === "revealed"
        ? revealEndpointSecret(db, actor, id, auditActor(req))
        : getEndpoint(db, actor, id, { withSecret: secret === "created" }),
      listDeliveries(db, actor, id, before),
    ]);
    const org =
      endpoint.organisationId === null
        ? null
        : await db.organisation.findUnique({ where: { id: endpoint.organisationId }, select: { name: true } });
    return { endpoint, owner: org?.name ?? "Federation-wide", deliveries };
  };

  r.get("/payments/webhooks", { guard: manager }, async (req, res) => {
    res.render("orgs/webhooks", await listPage(req));
  });

  /** The form as typed (text values only), to show again with the refusal. */
  const typed = (req: Request) => {
    const values = textValues(req.body);
    const events = req.body?.events;
    return { ...values, events: Array.isArray(events) ? events.filter((e) => typeof e === "string") : [values.events] };
  };
  const endpointRefused = async (req: Request, res: Response, message: string) => {
    res.status(400).render("orgs/webhooks", await listPage(req, typed(req), message));
  };

  r.post(
    "/payments/webhooks",
    { guard: manager, body: endpointBody, invalid: endpointRefused },
    async (req, res, { body }) => {
      let created: Awaited<ReturnType<typeof createEndpoint>>;
      try {
        created = await createEndpoint(
          db,
          actorOf(req),
          {
            organisationId: body.organisation ?? null,
            url: body.url,
            description: body.description ?? "",
            eventTypes: body.events as never,
          },
          deps.urlPolicy,
          auditActor(req),
        );
      } catch (e) {
        if (!(e instanceof AppError) || e.status >= 500) throw e;
        return res.status(e.status).render("orgs/webhooks", await listPage(req, typed(req), e.message));
      }
      req.log.info({ actor: req.user!.id, endpointId: created.id, url: created.url }, "webhook endpoint added");
      // Rendered, not redirected: the secret is shown now and never kept in the session.
      res
        .status(201)
        .render("orgs/webhook-endpoint", { ...(await endpointPage(req, created.id, "created")), justCreated: true });
    },
  );

  const one = { guard: manager, params: idParams };
  r.get("/payments/webhooks/:id", { ...one, query: deliveriesQuery }, async (req, res, { params, query }) => {
    res.render("orgs/webhook-endpoint", await endpointPage(req, params.id, undefined, query.before));
  });

  r.post("/payments/webhooks/:id/secret", one, async (req, res, { params }) => {
    const page = await endpointPage(req, params.id, "revealed");
    req.log.info({ actor: req.user!.id, endpointId: page.endpoint.id }, "webhook endpoint secret shown");
    res.setHeader("Cache-Control", "no-store");
    res.render("orgs/webhook-endpoint", page);
  });

  for (const [action, enabled] of [
    ["enable", true],
    ["disable", false],
  ] as const) {
    r.post(`/payments/webhooks/:id/${action}`, one, async (req, res, { params }) => {
      await setEndpointEnabled(db, actorOf(req), params.id, enabled, auditActor(req));
      flash(req, "success", enabled ? "Endpoint enabled" : "Endpoint disabled");
      res.redirect(`/payments/webhooks/${params.id}`);
    });
  }

  r.get("/payments/webhooks/:id/delete", one, async (req, res, { params }) => {
    res.render("orgs/webhook-endpoint-delete", { endpoint: await getEndpoint(db, actorOf(req), params.id) });
  });

  r.post("/payments/webhooks/:id/delete", one, async (req, res, { params }) => {
    await deleteEndpoint(db, actorOf(req), params.id, auditActor(req));
    req.log.info({ actor: req.user!.id, endpointId: params.id }, "webhook endpoint deleted");
    flash(req, "success", "Endpoint deleted");
    res.redirect("/payments/webhooks");
  });

  r.post(
    "/payments/webhooks/deliveries/:id/resend",
    { guard: manager, params: deliveryParams },
    async (req, res, { params }) => {
      const { endpointId, endpointEnabled } = await requestResend(db, actorOf(req), params.id, auditActor(req));
      flash(
        req,
        endpointEnabled ? "success" : "warning",
        endpointEnabled
          ? "Delivery queued again"
          : "Delivery queued again; it will fail while the endpoint is disabled",
      );
      res.redirect(`/payments/webhooks/${endpointId}`);
    },
  );

  return r.router;
}
