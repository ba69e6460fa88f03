// Builds the Express application from its dependencies. Nothing here reads the environment or opens
// connections: server.ts and the tests pass in what they want, so tests run the real app on their own database.
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import express from "express";
import session from "express-session";
import { pinoHttp } from "pino-http";
import { csrfProtection } from "./auth/csrf";
import { createPassport } from "./auth/passport";
import type { Config } from "./config";
import type { Database } from "./db/client";
import { type Logger, requestLogStyle } from "./lib/logger";
import { projectRoot } from "./lib/paths";
import { accountingExportRoutes } from "./routes/admin/accounting-export";
import { adjustmentRoutes } from "./routes/admin/adjustments";
import { apiKeyRoutes } from "./routes/admin/api-keys";
import { approvalRoutes } from "./routes/admin/approvals";
import { auditRoutes } from "./routes/admin/audit";
import { disputeRoutes } from "./routes/admin/disputes";
import { emailPreviewRoutes } from "./routes/admin/email-previews";
import { memberAdminRoutes } from "./routes/admin/member-admin";
import { orgBankDetailsRoutes } from "./routes/admin/org-bank-details";
import { paymentSettingsRoutes } from "./routes/admin/payment-settings";
import { reconciliationRoutes } from "./routes/admin/reconciliation";
import { reportAndCardRoutes } from "./routes/admin/reports-and-cards";
import { settlementRoutes } from "./routes/admin/settlement";
import { settlementBatchRoutes } from "./routes/admin/settlement-batches";
import { stripePayoutRoutes } from "./routes/admin/stripe-payouts";
import { statisticsRoutes } from "./routes/admin/statistics";
import { stripePendingRoutes } from "./routes/admin/stripe-pending";
import { adminSummaryRoutes } from "./routes/admin/summary";
import { apiDocsRoutes } from "./routes/api/docs";
import { apiV1Routes } from "./routes/api/v1";
import { authRoutes } from "./routes/core/auth";
import { healthRoutes } from "./routes/core/health";
import { sessionRoutes } from "./routes/core/sessions";
import { stripeWebhookRoutes } from "./routes/core/stripe-webhook";
import { twoFactorRoutes } from "./routes/core/two-factor";
import { clubRoutes } from "./routes/orgs/club";
import { clubSessionRoutes } from "./routes/orgs/club-session";
import { orgReportRoutes } from "./routes/orgs/org-report";
import { webhookEndpointRoutes } from "./routes/orgs/webhook-endpoints";
import { cardPaymentRoutes } from "./routes/players/card-payments";
import { dashboardRoutes } from "./routes/players/dashboard";
import { memberActionRoutes } from "./routes/players/member-actions";
import { messageRoutes } from "./routes/players/messages";
import { emailRendererFor } from "./services/notifications/render-email";
import { statementRoutes } from "./routes/players/statement";
import { CallLogWriter } from "./services/api/call-log";
import { ChargeGroupWriter } from "./services/api/charge-group";
import type { RecordOutboundEvent } from "./services/api/outbound-events";
import { createApiServices } from "./services/api/setup";
import { UnconfiguredCardGateway } from "./services/payments/card-gateway";
import { createPayments, type Payments } from "./services/payments/context";
import { createSecretBox } from "./services/two-factor/secret-box";
import { outboundEventsStatement, recordOutboundEvent } from "./services/webhooks-out/record-event";
import { errorHandler, notFoundHandler } from "./web/error-handler";
import { flashMiddleware } from "./web/flash";
import { templateLocals } from "./web/locals";
import { securityHeaders } from "./web/security";
import { sessionClient } from "./web/session-client";
import { pgSessionStore, slideSessionExpiry } from "./web/session-store";
import { setupViews } from "./web/views";

export interface AppDeps {
  config: Config;
  database: Database;
  logger: Logger;
  sessionSecret: string;
  /** APP_ENCRYPTION_KEY (two-factor secrets at rest); the configuration's when not given. */
  encryptionKey?: string;
  /** The payments core; built on `database` with no card processor when not given. */
  payments?: Payments;
  /** True once the process is shutting down: /readyz then answers 503 while requests in flight finish. */
  draining?: () => boolean;
  /** Where the API's changes record their outbound webhook events (the outbox's recordOutboundEvent by default). */
  recordOutboundEvent?: RecordOutboundEvent;
}

/** Paths that authenticate themselves another way (a signature) and so skip CSRF. */
export const CSRF_EXEMPT = ["/payments/stripe-webhook"];

const BODY_LIMIT = "100kb";

function staticFrom(dir: string) {
  return express.static(dir, { maxAge: "7d", index: false, fallthrough: true });
}

/** The request's id: the caller's X-Request-Id when it looks like one, else a new one; sent back as X-Request-Id. */
function requestId(req: IncomingMessage, res: ServerResponse) {
  const incoming = req.headers["x-request-id"];
  const id = typeof incoming === "string" && /^[\w-]{8,64}$/.test(incoming) ? incoming : randomUUID();
  res.setHeader("X-Request-Id", id);
  return id;
}

export function createApp({ config, database, logger, sessionSecret, ...deps }: AppDeps) {
  const { prisma: db, pool } = database;
  const encryptionKey = deps.encryptionKey ?? config.APP_ENCRYPTION_KEY;
  if (!encryptionKey) throw new Error("createApp needs APP_ENCRYPTION_KEY (configuration or encryptionKey)");
  const box = createSecretBox(encryptionKey);
  const payments =
    deps.payments ??
    createPayments({ db, pool, gateway: new UnconfiguredCardGateway(), logger, timeZone: config.TIME_ZONE });
  const app = express();
  app.disable("x-powered-by");
  if (config.TRUST_PROXY) app.set("trust proxy", 1);
  setupViews(app, { watch: config.NODE_ENV === "development", timeZone: config.TIME_ZONE });

  // With the local emulator, Stripe.js and the Stripe API are served from its address.
  const stripeOrigin = payments.gateway.browser?.origin;
  app.use(securityHeaders(stripeOrigin && stripeOrigin !== "https://api.stripe.com" ? [stripeOrigin] : []));

  // The payments API authenticates each call by its key: no session, no CSRF, its own JSON parser and errors.
  const api = createApiServices(payments, {
    publicUrl: config.PUBLIC_URL ?? `http://localhost:${config.PORT}`,
    recordEvent: deps.recordOutboundEvent ?? recordOutboundEvent,
    // With a recorder passed in, grouped writes record their events through it too (one call per event).
    eventsStatement: deps.recordOutboundEvent ? undefined : outboundEventsStatement,
  });
  // Kept on the app so shutdown can write the calls still queued before the pools close.
  const callLog = new CallLogWriter(pool, logger);
  app.locals.flushCallLog = () => callLog.flush();
  // POST /charges books in shared transactions; kept on the app so shutdown finishes its groups first.
  const chargeGroup = new ChargeGroupWriter(api, { connections: config.API_CHARGE_GROUP_CONNECTIONS });
  app.locals.chargeGroup = chargeGroup;
  app.locals.apiServices = api; // for the scheduled jobs (server.ts)
  api.chargeGroup = chargeGroup; // batches (API and the club session page) book through it too
  // Before pino-http: the API logs each call itself, in one small line (api-middleware.ts callLog).
  app.use("/api/v1", apiV1Routes({ db, services: api, config, logger, callLog, chargeGroup, requestId }));
  app.use(
    pinoHttp({
      logger,
      ...requestLogStyle(logger),
      genReqId: requestId,
      autoLogging: { ignore: (req) => req.url === "/healthz" || req.url === "/readyz" },
    }),
  );
  const nm = path.join(projectRoot, "node_modules");
  app.use("/static/bootstrap", staticFrom(path.join(nm, "bootstrap", "dist")));
  app.use("/static/bootstrap-icons", staticFrom(path.join(nm, "bootstrap-icons", "font")));
  app.use("/static/htmx", staticFrom(path.join(nm, "htmx.org", "dist")));
  app.use("/static/chartjs", staticFrom(path.join(nm, "chart.js", "dist")));
  app.use("/static", staticFrom(path.join(projectRoot, "public")));
  app.use(healthRoutes({ pool, draining: deps.draining }));

  app.use(apiDocsRoutes());

  // Before the body parsers: the webhook's signature is over the raw bytes.
  app.use(stripeWebhookRoutes({ payments }));
  app.use(express.urlencoded({ extended: false, limit: BODY_LIMIT, parameterLimit: 200 }));
  app.use(express.json({ limit: BODY_LIMIT }));

  app.use(
    session({
      name: "bc.sid",
      secret: sessionSecret,
      store: pgSessionStore(session, pool, { pruneSessionInterval: config.NODE_ENV === "test" ? false : 15 * 60 }),
      resave: false,
      saveUninitialized: false,
      rolling: true,
      cookie: {
        httpOnly: true,
        sameSite: "lax",
        secure: "auto", // Secure whenever the request arrived over HTTPS (behind a proxy: set TRUST_PROXY)
        maxAge: 8 * 60 * 60 * 1000,
      },
    }),
  );
  app.use(slideSessionExpiry(pool));
  const passport = createPassport(db, pool);
  app.use(passport.initialize());
  app.use(passport.session());
  app.use(sessionClient);
  app.use(csrfProtection(CSRF_EXEMPT));
  app.use(flashMiddleware);
  app.use(templateLocals);

  app.use(authRoutes({ db, pool, passport, config }));
  app.use(twoFactorRoutes({ db, pool, box, config }));
  app.use(sessionRoutes({ db }));
  app.use(dashboardRoutes({ payments }));
  app.use(statementRoutes({ payments }));
  app.use(cardPaymentRoutes({ payments }));
  app.use(memberActionRoutes({ payments }));
  const emails = emailRendererFor(config);
  app.use(messageRoutes({ db, pool, mailConfigured: !!config.SMTP_URL, emails }));
  app.use(clubRoutes({ db, payments }));
  app.use(orgReportRoutes({ db, payments }));
  app.use(clubSessionRoutes({ services: api }));
  app.use(
    webhookEndpointRoutes({
      db,
      urlPolicy: { production: config.NODE_ENV === "production", allowPrivate: config.WEBHOOK_ALLOW_PRIVATE },
    }),
  );
  app.use(adminSummaryRoutes({ db, payments }));
  app.use(stripePendingRoutes({ payments }));
  app.use(stripePayoutRoutes({ payments }));
  app.use(disputeRoutes({ payments }));
  app.use(memberAdminRoutes({ payments }));
  app.use(adjustmentRoutes({ payments }));
  app.use(paymentSettingsRoutes({ db }));
  app.use(reportAndCardRoutes({ payments }));
  app.use(settlementRoutes({ payments }));
  app.use(settlementBatchRoutes({ payments }));
  app.use(orgBankDetailsRoutes({ payments }));
  app.use(accountingExportRoutes({ payments }));
  app.use(reconciliationRoutes({ payments }));
  app.use(statisticsRoutes({ payments }));
  app.use(apiKeyRoutes({ db, config }));
  app.use(approvalRoutes({ payments }));
  app.use(emailPreviewRoutes({ emails }));
  app.use(auditRoutes({ db, timeZone: config.TIME_ZONE }));

  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
