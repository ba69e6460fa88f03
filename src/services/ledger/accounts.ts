// Account ids for members, organisations and the system accounts. Every user and organisation gets its account
// from a database trigger when it is created, and ids never change, so they are cached for the process's life.
import type { Db } from "../../db/client";
import { notFound } from "../../lib/errors";
import type { SystemAccountCode } from "./posting";

export class AccountDirectory {
  private readonly ids = new Map<string, number>();

  constructor(private readonly db: Db) {}

  forUser(userId: number): Promise<number> {
    return this.lookup(`u${userId}`, { userId }, "That member does not exist.");
  }

  forOrganisation(organisationId: number): Promise<number> {
    return this.lookup(`o${organisationId}`, { organisationId }, "That organisation does not exist.");
  }

  forSystem(code: SystemAccountCode): Promise<number> {
    return this.lookup(`s${code}`, { systemCode: code }, `System account ${code} is missing.`);
  }

  private async lookup(
    key: string,
    where: { userId: number } | { organisationId: number } | { systemCode: string },
    missing: string,
  ): Promise<number> {
    const hit = this.ids.get(key);
    if (hit) return hit;
    const a = await this.db.account.findUnique({ where, select: { id: true } });
    if (!a) throw notFound(missing);
    this.ids.set(key, a.id);
    return a.id;
  }
}
