// One-shot messages shown on the next page rendered (after a redirect), kept in the session.
import type { NextFunction, Request, Response } from "express";

type FlashType = "success" | "danger" | "info" | "warning";

export function flash(req: Request, type: FlashType, message: string) {
  req.session.flash = [...(req.session.flash ?? []), { type, message }];
}

/** Exposes pending messages to the template about to render, then forgets them. */
export function flashMiddleware(req: Request, res: Response, next: NextFunction) {
  const render = res.render.bind(res);
  res.render = ((view: string, ...rest: unknown[]) => {
    res.locals.flashes = req.session?.flash ?? [];
    if (req.session) req.session.flash = [];
    // biome-ignore lint/suspicious/noExplicitAny: forwarding Express's overloaded signature
    return (render as any)(view, ...rest);
  }) as Response["render"];
  next();
}
