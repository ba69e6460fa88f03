// The signed-in user as the session store read it, in the same query as the session (src/web/session-store.ts),
// handed to passport's deserializer on the same request: a signed-in request reads session, user, second factor
// and roles in one round trip. Nothing outlives the request, so a revoked role or a deactivated account is
// refused on the very next request, as when the user was read on its own.
import type { SessionUser } from "./session-user";

const PRELOADED = Symbol("session user read with the session");

interface Preload {
  id: number;
  /** null: no active user with that id (deactivated or deleted), which signs the session out. */
  user: SessionUser | null;
}

type Carrier = { [PRELOADED]?: Preload };

export function setPreloadedUser(req: object, id: number, user: SessionUser | null) {
  (req as Carrier)[PRELOADED] = { id, user };
}

/** The user read with this request's session, once; undefined when none was read for this id. */
export function preloadedUser(req: object, id: number): SessionUser | null | undefined {
  const pre = (req as Carrier)[PRELOADED];
  if (!pre || pre.id !== id) return undefined;
  delete (req as Carrier)[PRELOADED];
  return pre.user;
}
