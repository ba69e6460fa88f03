// One-shot messages shown on the next page rendered (after a redirect), kept in the session.
import type { NextFunction, Request, Response } from "express";

type FlashType = "success" | "danger" | "info" | "warning";

export function flash(req: Request, type: FlashType, message: string) {
  req.session.flash = [...(req.session.flash ?? []), { type, message }];
}

/**
 * Exposes pending messages to the template about to render, then forgets them; and makes a redirect wait until a
 * pending message is stored. express-session saves a changed session as the response ends, but sends the
 * headers first, so a browser following the redirect could read the session before the message was in it (and
 * the message was lost now and then under load).
 */
export function flashMiddleware(req: Request, res: Response, next: NextFunction) {
  const render = res.render.bind(res);
  res.render = ((view: string, ...rest: unknown[]) => {
    res.locals.flashes = req.session?.flash ?? [];
    // Only when there was something to forget: an emptied list is a change, and a changed session is a write.
    if (req.session?.flash?.length) req.session.flash = [];
    // biome-ignore lint/suspicious/noExplicitAny: forwarding Express's overloaded signature
    return (render as any)(view, ...rest);
  }) as Response["render"];
  const redirect = res.redirect.bind(res);
  res.redirect = ((...args: unknown[]) => {
    // biome-ignore lint/suspicious/noExplicitAny: forwarding Express's overloaded signature
    const go = () => (redirect as any)(...args);
    if (!req.session?.flash?.length) return go();
    req.session.save((err) => {
      if (err) req.log?.warn({ err }, "session not saved before a redirect; its message may be lost");
      go();
    });
  }) as Response["redirect"];
  next();
}
