// Limits failed sign-ins: per address and per account, counted over a fixed window. Successful sign-ins do not
// count. Kept in memory, which suits the single-process deployment; several processes would need a shared store.
import type { Request, Response } from "express";
import { rateLimit } from "express-rate-limit";

export type OnLimited = (req: Request, res: Response, message: string) => void;

export function loginThrottles(maxFailures: number, windowMinutes: number, onLimited: OnLimited) {
  const message = `Too many failed sign-in attempts. Please wait ${windowMinutes} minutes and try again.`;
  const common = {
    windowMs: windowMinutes * 60_000,
    skipSuccessfulRequests: true, // a failed sign-in answers 401, a successful one redirects
    standardHeaders: "draft-8" as const,
    legacyHeaders: false,
    handler: (req: Request, res: Response) => onLimited(req, res, message),
  };
  const perAccount = rateLimit({
    ...common,
    limit: maxFailures,
    // Runs before the input layer checks the form: anything but text counts as no identifier.
    keyGenerator: (req) => {
      const id: unknown = req.body?.identifier;
      return `acct:${(typeof id === "string" ? id : "").trim().toLowerCase().slice(0, 254)}`;
    },
  });
  // An address may try a few accounts (a shared club computer), but not sweep through many.
  const perAddress = rateLimit({ ...common, limit: maxFailures * 4 });
  return [perAddress, perAccount];
}
