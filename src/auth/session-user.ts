import type { Permissions } from "../services/roles/permissions";

/** What a signed-in request knows about its user (loaded fresh from the database on every request). */
export interface SessionUser {
  id: number;
  systemNumber: number;
  firstName: string;
  lastName: string;
  email: string;
  permissions: Permissions;
  /** Enrolled in two-factor sign-in (an authenticator confirmed with a code). */
  twoFactorEnabled: boolean;
}

declare global {
  namespace Express {
    interface User extends SessionUser {}
  }
}

declare module "express-session" {
  interface SessionData {
    csrfToken?: string;
    flash?: { type: "success" | "danger" | "info" | "warning"; message: string }[];
    /** Password accepted, second factor still to give: not signed in yet (see routes/core/two-factor.ts). */
    pendingSignIn?: { userId: number; next: string; at: number };
    /** This session gave a two-factor code (at sign-in or when enrolling): EDIT pages may be used. */
    twoFactorVerified?: boolean;
    /** For the sessions page: where and with what this session was last used, and when it signed in. */
    client?: { ip: string; userAgent: string; seenAt: number; signedInAt: number };
  }
}
