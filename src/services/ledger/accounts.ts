// Account ids for members, organisations and the system accounts. Every user and organisation gets its account
// from a database trigger when it is created, and ids never change, so they are cached for the process's life.
import type { Db } from "../../db/client";
import { notFound } from "../../lib/errors";

export type SystemAccount = "CARD_FUNDS" | "FEE_INCOME" | "SETTLEMENTS_PAYABLE" | "ADJUSTMENTS";

export class AccountDirectory {
  private readonly users = new Map<number, number>();
  private readonly orgs = new Map<number, number>();
  private readonly system = new Map<string, number>();

  constructor(private readonly db: Db) {}

  async forUser(userId: number): Promise<number> {
    const hit = this.users.get(userId);
    if (hit) return hit;
    const a = await this.db.account.findUnique({ where: { userId }, select: { id: true } });
    if (!a) throw notFound("That member does not exist.");
    this.users.set(userId, a.id);
    return a.id;
  }

  async forOrganisation(organisationId: number): Promise<number> {
    const hit = this.orgs.get(organisationId);
    if (hit) return hit;
    const a = await this.db.account.findUnique({ where: { organisationId }, select: { id: true } });
    if (!a) throw notFound("That organisation does not exist.");
    this.orgs.set(organisationId, a.id);
    return a.id;
  }

  async forSystem(code: SystemAccount): Promise<number> {
    const hit = this.system.get(code);
    if (hit) return hit;
    const a = await this.db.account.findUniqueOrThrow({ where: { systemCode: code }, select: { id: true } });
    this.system.set(code, a.id);
    return a.id;
  }
}
