// The emulator's HTTP face: Stripe's URL paths, form-encoded requests, Bearer keys, JSON objects and errors,
// and Idempotency-Key semantics (same key and parameters → the first response again; different parameters →
// an idempotency_error). The browser script calls the confirm endpoints with the publishable key and the
// intent's client secret, as Stripe.js does.
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import express, { type NextFunction, type Request, type Response } from "express";
import { type ReceiptOptions, receiptPage } from "./receipt-page";
import { type EmulatorStore, StripeApiError, stripeId } from "./store";

export interface EmulatorKeys {
  secretKey: string;
  publishableKey: string;
}

/**
 * A failure the next server-side request suffers (the next one to `path`, when given), for tests of the
 * gateway's error handling.
 */
export type Fault = FaultKind | { kind: FaultKind; path: string };
type FaultKind =
  /** 500 api_error before doing anything. */
  | "api_error"
  /** 429 rate limit before doing anything. */
  | "rate_limit"
  /**
   * Does the work (or replays it), then drops the connection: the caller cannot know whether it happened. The
   * SDK retries a dropped connection once by itself, so a test pushes this twice to make the caller see it.
   */
  | "drop_after";

interface Remembered {
  path: string;
  hash: string;
  status: number;
  body: unknown;
}

const STRIPE_JS = fs.readFileSync(path.join(__dirname, "stripe-js-standin.js"), "utf8");

function errorBody(e: StripeApiError) {
  return { error: { ...e.body, doc_url: `https://docs.stripe.com/error-codes/${e.body.code ?? e.body.type}` } };
}

export function emulatorApp(
  store: EmulatorStore,
  keys: EmulatorKeys,
  faults: Fault[],
  onChange: () => void,
  receipts: ReceiptOptions,
) {
  const app = express();
  // Stripe's query strings nest like its bodies (expand[0]=latest_charge).
  app.set("query parser", "extended");
  const remembered = new Map<string, Remembered>();

  app.use((req, res, next) => {
    res.setHeader("Access-Control-Allow-Origin", "*");
    res.setHeader("Access-Control-Allow-Headers", "Authorization, Content-Type, Idempotency-Key, Stripe-Version");
    res.setHeader("Access-Control-Allow-Methods", "GET, POST, DELETE");
    res.setHeader("Request-Id", stripeId("req"));
    if (req.method === "OPTIONS") {
      res.status(204).end();
      return;
    }
    next();
  });
  app.get("/js/v3", (_req, res) => {
    res.type("application/javascript").send(STRIPE_JS);
  });
  // The charge's receipt_url: public, as Stripe's are (the unguessable charge id is the only key).
  app.get("/receipts/payment/:id", receiptPage(store, receipts));
  app.use(express.urlencoded({ extended: true, limit: "100kb" }));
  app.use((req, res, next) => {
    if (req.method === "POST") res.on("finish", onChange);
    next();
  });

  const bearer = (req: Request) => /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1] ?? "";

  /** Server calls: the secret key, plus the test faults and idempotency. */
  const server = (handler: (req: Request) => unknown) => (req: Request, res: Response) => {
    if (bearer(req) !== keys.secretKey) {
      res.status(401).json({
        error: { type: "invalid_request_error", message: `Invalid API Key provided: ${bearer(req).slice(0, 8)}***` },
      });
      return;
    }
    const at = faults.findIndex((f) => typeof f === "string" || req.path.startsWith(f.path));
    const next = at >= 0 ? faults.splice(at, 1)[0] : undefined;
    const fault = typeof next === "object" ? next.kind : next;
    if (fault === "api_error") {
      res.status(500).json({ error: { type: "api_error", message: "An unknown error occurred (emulated)." } });
      return;
    }
    if (fault === "rate_limit") {
      res.status(429).json({
        error: { type: "invalid_request_error", code: "rate_limit", message: "Too many requests (emulated)." },
      });
      return;
    }
    const key = req.method === "POST" ? req.header("idempotency-key") : undefined;
    const hash = createHash("sha256")
      .update(JSON.stringify(req.body ?? {}))
      .digest("hex");
    const seen = key ? remembered.get(key) : undefined;
    if (seen) {
      if (seen.path !== req.path || seen.hash !== hash) {
        res.status(400).json({
          error: {
            type: "idempotency_error",
            message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
          },
        });
        return;
      }
      if (fault === "drop_after") {
        req.socket.destroy();
        return;
      }
      res.setHeader("Idempotent-Replayed", "true");
      res.status(seen.status).json(seen.body);
      return;
    }
    let status = 200;
    let body: unknown;
    try {
      body = handler(req);
    } catch (e) {
      if (!(e instanceof StripeApiError)) throw e;
      status = e.status;
      body = errorBody(e);
    }
    // Stripe remembers failures too (except its own 500s), so a retry gets the same decline.
    if (key) remembered.set(key, { path: req.path, hash, status, body });
    if (fault === "drop_after") {
      req.socket.destroy();
      return;
    }
    res.status(status).json(body);
  };

  /** Browser calls: the publishable key and the intent's client secret. */
  const browser = (handler: (req: Request) => unknown) => (req: Request, res: Response) => {
    const id = String(req.params.id);
    const o = store.objects.get(id);
    if (bearer(req) === keys.secretKey) return server(handler)(req, res);
    if (bearer(req) !== keys.publishableKey || !o || o.client_secret !== req.body?.client_secret) {
      res.status(401).json({ error: { type: "invalid_request_error", message: "Invalid client secret or key." } });
      return;
    }
    try {
      res.json(handler(req));
    } catch (e) {
      if (!(e instanceof StripeApiError)) throw e;
      res.status(e.status).json(errorBody(e));
    }
  };

  const q = (req: Request) => req.query as Record<string, unknown>;
  const b = (req: Request) => (req.body ?? {}) as Record<string, unknown>;
  const id = (req: Request) => String(req.params.id);

  app.post(
    "/v1/customers",
    server((req) => store.createCustomer(b(req))),
  );
  app.get(
    "/v1/customers/:id",
    server((req) => store.get(id(req), "customer")),
  );
  app.post(
    "/v1/customers/:id",
    server((req) => store.updateCustomer(id(req), b(req))),
  );
  app.get(
    "/v1/customers/:id/payment_methods",
    server((req) => store.listPaymentMethods(id(req))),
  );
  app.get(
    "/v1/payment_methods",
    server((req) => store.listPaymentMethods(String(q(req).customer ?? ""))),
  );
  app.get(
    "/v1/payment_methods/:id",
    server((req) => store.get(id(req), "payment_method")),
  );

  app.post(
    "/v1/payment_intents",
    server((req) => store.expand(store.createPaymentIntent(b(req)), b(req).expand)),
  );
  app.get(
    "/v1/payment_intents/:id",
    server((req) => store.expand(store.get(id(req), "payment_intent"), q(req).expand)),
  );
  app.post(
    "/v1/payment_intents/:id/confirm",
    browser((req) => store.expand(store.confirmPaymentIntent(id(req), b(req)), b(req).expand)),
  );
  app.post(
    "/v1/setup_intents",
    server((req) => store.createSetupIntent(b(req))),
  );
  app.get(
    "/v1/setup_intents/:id",
    server((req) => store.get(id(req), "setup_intent")),
  );
  app.post(
    "/v1/setup_intents/:id/confirm",
    browser((req) => store.confirmSetupIntent(id(req), b(req))),
  );
  app.post(
    "/v1/emulator/authenticate/:id",
    browser((req) => store.authenticate(id(req), String(b(req).approve) === "true")),
  );

  app.post(
    "/v1/refunds",
    server((req) => store.createRefund(b(req))),
  );
  app.get(
    "/v1/refunds/:id",
    server((req) => store.get(id(req), "refund")),
  );
  app.get(
    "/v1/charges/:id",
    server((req) => store.expand(store.get(id(req), "charge"), q(req).expand)),
  );
  app.get(
    "/v1/balance_transactions",
    server((req) => store.listBalanceTransactions(q(req))),
  );
  app.get(
    "/v1/payouts",
    server((req) => store.list("payout", "/v1/payouts", q(req))),
  );
  app.get(
    "/v1/payouts/:id",
    server((req) => store.get(id(req), "payout")),
  );
  app.get(
    "/v1/disputes",
    server((req) => store.list("dispute", "/v1/disputes", q(req))),
  );
  app.get(
    "/v1/disputes/:id",
    server((req) => store.get(id(req), "dispute")),
  );
  // The emulator's own controls (no Stripe equivalent: Stripe pays out on its schedule and card networks open
  // disputes): finance's demo actions in emulator mode, and the tests.
  app.post(
    "/v1/emulator/payouts",
    server((req) => store.createPayout({ fail: String(b(req).fail) === "true" })),
  );
  app.post(
    "/v1/emulator/payouts/:id/fail",
    server((req) => store.failPayout(id(req))),
  );
  app.post(
    "/v1/emulator/disputes",
    server((req) => store.openDispute(String(b(req).charge ?? ""), String(b(req).reason ?? "fraudulent"))),
  );
  app.post(
    "/v1/emulator/disputes/:id/close",
    server((req) => store.closeDispute(id(req), String(b(req).outcome) === "won" ? "won" : "lost")),
  );
  app.get(
    "/v1/balance_transactions/:id",
    server((req) => store.get(id(req), "balance_transaction")),
  );
  app.get(
    "/v1/balance",
    server(() => store.balance()),
  );

  app.use((req, res) => {
    res.status(404).json({
      error: { type: "invalid_request_error", message: `Unrecognized request URL (${req.method}: ${req.path}).` },
    });
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const message = err instanceof Error ? err.message : String(err);
    res.status(500).json({ error: { type: "api_error", message: `Emulator error: ${message}` } });
  });
  return app;
}
