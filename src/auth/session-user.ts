import { type Level, type Permissions, permissionsFrom } from "../services/roles/permissions";

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

/**
 * The signed-in user, their second factor and their roles as one row (append the WHERE on `u`): on its own for
 * sign-in (loadSessionUser), and joined to the session row by the session store.
 */
export const SESSION_USER_SELECT = `
  SELECT u.id, u.system_number, u.first_name, u.last_name, u.email,
         EXISTS (SELECT 1 FROM two_factor_secrets t WHERE t.user_id = u.id AND t.enabled_at IS NOT NULL)
           AS two_factor_enabled,
         coalesce((SELECT json_agg(json_build_object('organisationId', g.organisation_id, 'level', g.level))
                     FROM role_grants g WHERE g.user_id = u.id), '[]') AS grants
    FROM users u`;

export interface SessionUserRow {
  id: number;
  system_number: number;
  first_name: string;
  last_name: string;
  email: string;
  two_factor_enabled: boolean;
  grants: { organisationId: number | null; level: Level }[];
}

export function sessionUserFrom(u: SessionUserRow): SessionUser {
  return {
    id: u.id,
    systemNumber: u.system_number,
    firstName: u.first_name,
    lastName: u.last_name,
    email: u.email,
    twoFactorEnabled: u.two_factor_enabled,
    permissions: permissionsFrom(u.grants),
  };
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
