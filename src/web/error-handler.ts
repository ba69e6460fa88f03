// The last middleware. Known refusals (AppError, body-parser limits, a lost database connection: 503) show their
// own safe message with their status; anything else is logged with the request id and shown as a generic 500
// page. A stack trace never reaches the user.
import type { NextFunction, Request, Response } from "express";
import { isConnectionLost } from "../db/connection-loss";
import { AppError } from "../lib/errors";
import { CardGatewayError } from "../services/payments/card-gateway";

function asAppError(err: unknown): AppError | null {
  if (err instanceof AppError) return err;
  if (err instanceof CardGatewayError) {
    // A refusal of the card (Stripe's own words are meant for cardholders) or an outage of the processor.
    if (err.kind === "hard_decline" || err.kind === "authentication_required")
      return new AppError("BAD_INPUT", err.message);
    return new AppError(
      "UNAVAILABLE",
      "The card processor did not answer just now; please try again in a minute.",
      `${err.kind}: ${err.message}`,
    );
  }
  if (isConnectionLost(err)) {
    // The database restarted or dropped us: the pools reconnect on their own, so asking again soon will work.
    return new AppError(
      "UNAVAILABLE",
      "The database is not answering just now; please try again in a minute.",
      err instanceof Error ? err.message : String(err),
    );
  }
  const e = err as { type?: string; status?: number };
  if (e?.type === "entity.too.large") return new AppError("TOO_LARGE", "That request is too large.");
  if (e?.type === "entity.parse.failed" || e?.type === "encoding.unsupported" || e?.type === "charset.unsupported") {
    return new AppError("BAD_INPUT", "The request body could not be read.");
  }
  if (e?.status === 400) return new AppError("BAD_INPUT", "The request could not be understood.");
  return null;
}

export function wantsJson(req: Request) {
  return req.xhr || req.is("application/json") === "application/json" || req.accepts(["html", "json"]) === "json";
}

export function notFoundHandler(_req: Request, _res: Response, next: NextFunction) {
  next(new AppError("NOT_FOUND", "That page does not exist."));
}

export function errorHandler(err: unknown, req: Request, res: Response, _next: NextFunction) {
  const known = asAppError(err);
  const status = known?.status ?? 500;
  const message = known?.message ?? "Something went wrong on our side. It has been logged; please try again.";
  if (known) {
    if (known.detail || status >= 403) req.log?.info({ code: known.code, detail: known.detail }, known.message);
  } else {
    req.log?.error({ err }, "unhandled error");
  }
  if (res.headersSent) return res.end();
  res.status(status);
  if (known?.code === "UNAVAILABLE") res.set("Retry-After", "5");
  if (wantsJson(req)) return res.json({ error: message });
  const view = status === 403 || status === 404 ? `errors/${status}` : status >= 500 ? "errors/500" : "errors/error";
  res.render(view, { status, message, requestId: req.id }, (renderErr, html) => {
    // If even the error page fails, fall back to text rather than an empty response.
    if (renderErr) res.type("text").send(message);
    else res.send(html);
  });
}
