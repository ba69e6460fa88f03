import type { Permissions } from "../services/roles/permissions";

/** What a signed-in request knows about its user (loaded fresh from the database on every request). */
export interface SessionUser {
  id: number;
  systemNumber: number;
  firstName: string;
  lastName: string;
  email: string;
  permissions: Permissions;
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
  }
}
