// A club's bank details (BSB, account number, account name) and the minimum balance it keeps after settlement,
// changed after the club was created (issue 19 item 4) by a finance editor's confirmed form or the operators' CLI,
// both through `changeBankDetails`. The next settlement reads them from the club, so the next bank file pays the
// new account; each change is kept with who, when, old and new values (shown in the settlement history), the
// club's officers get a message, and the returned-line flag clears (the trigger of migration 20261130150000).
import { createHash } from "node:crypto";
import type pg from "pg";
import type { Db } from "../../db/client";
import { AppError, badInput, conflict, notFound } from "../../lib/errors";
import type { Logger } from "../../lib/logger";
import { formatMoney } from "../../lib/money";
import { type AuditActor, recordAudit } from "../audit/record";
import type { TxClient } from "../ledger/book-postings";
import { inTransaction } from "../ledger/transaction";
import { type NotificationInput, writeNotifications } from "../notifications/outbox";

/** What the service needs: the app's Payments, or the CLI's own pool. */
export interface BankDeps {
  pool: pg.Pool;
  logger?: Pick<Logger, "info">;
}

export interface BankDetails {
  /** Six digits, or null when not set. */
  bsb: string | null;
  account: string | null;
  /** Null: the bank file uses the club's name. */
  accountName: string | null;
  minBalanceCents: bigint;
}

/** What a form or the CLI asks for; a field left out keeps its current value. */
export interface BankDetailsRequest {
  bsb?: string;
  account?: string;
  /** Null or blank: the bank file uses the club's name again. */
  accountName?: string | null;
  minBalanceCents?: bigint;
}

/** The longest account name a Direct Entry detail record carries (aba-file.ts cuts longer ones). */
export const ACCOUNT_NAME_MAX = 32;

/**
 * BSB as banks print it, `NNN-NNN` (six digits without the dash are taken too); not 000-000, which no branch has.
 * The bank file needs exactly six digits (aba-file.ts).
 */
export function parseBsb(raw: string): string {
  const t = raw.trim();
  if (!/^\d{3}-?\d{3}$/.test(t)) throw badInput(`BSB must be six digits written NNN-NNN, e.g. 062-000 (got "${t}").`);
  const digits = t.replace("-", "");
  if (digits === "000000") throw badInput("BSB 000-000 is not a bank branch.");
  return digits;
}

/**
 * Account number: 5 to 9 digits, not all zeros. The bank file takes at most nine digits (aba-file.ts); Australian
 * banks' account numbers have at least five, so fewer is a typing mistake.
 */
export function parseAccountNumber(raw: string): string {
  const t = raw.trim();
  if (!/^\d{5,9}$/.test(t)) throw badInput(`Account number must be 5 to 9 digits, no spaces or dashes (got "${t}").`);
  if (/^0+$/.test(t)) throw badInput("Account number cannot be all zeros.");
  return t;
}

/** The name on the account: up to 32 characters the bank file can carry, with at least one letter or digit. */
export function parseAccountName(raw: string): string {
  const t = raw.trim().replace(/\s+/g, " ");
  if (t.length > ACCOUNT_NAME_MAX) {
    throw badInput(`Account name must be at most ${ACCOUNT_NAME_MAX} characters (the bank file's limit).`);
  }
  if (!/[\p{L}\p{N}]/u.test(t)) throw badInput("Account name must contain letters or digits.");
  return t;
}

export function parseMinBalance(cents: bigint): bigint {
  if (cents < 0n) throw badInput("Minimum balance cannot be negative.");
  if (cents > 100_000_000_00n) throw badInput("Minimum balance is too large.");
  return cents;
}

/** The details after the request: every given field validated, the others kept. */
export function applyRequest(current: BankDetails, req: BankDetailsRequest): BankDetails {
  return {
    bsb: req.bsb === undefined ? current.bsb : parseBsb(req.bsb),
    account: req.account === undefined ? current.account : parseAccountNumber(req.account),
    accountName:
      req.accountName === undefined
        ? current.accountName
        : req.accountName === null || req.accountName.trim() === ""
          ? null
          : parseAccountName(req.accountName),
    minBalanceCents: req.minBalanceCents === undefined ? current.minBalanceCents : parseMinBalance(req.minBalanceCents),
  };
}

const bsbText = (v: string | null) => (v ? `${v.slice(0, 3)}-${v.slice(3)}` : "not set");

/** The changed fields, as the confirmation page, the message and the history show them. */
export function differences(clubName: string, before: BankDetails, after: BankDetails) {
  const name = (v: string | null) => v ?? `${clubName} (the club's name)`;
  const rows = [
    { field: "BSB", old: bsbText(before.bsb), new: bsbText(after.bsb) },
    { field: "Account number", old: before.account ?? "not set", new: after.account ?? "not set" },
    { field: "Account name", old: name(before.accountName), new: name(after.accountName) },
    {
      field: "Minimum balance after settlement",
      old: formatMoney(before.minBalanceCents),
      new: formatMoney(after.minBalanceCents),
    },
  ];
  return rows.filter((r) => r.old !== r.new);
}

/** A short fingerprint of the details a confirmation page showed: a change made since then is noticed. */
export function detailsFingerprint(d: BankDetails): string {
  const text = [d.bsb ?? "", d.account ?? "", d.accountName ?? "", String(d.minBalanceCents)].join("\u0000");
  return createHash("sha256").update(text).digest("hex").slice(0, 32);
}

interface OrgRow {
  id: number;
  name: string;
  club_number: string;
  bank_bsb: string | null;
  bank_account: string | null;
  bank_account_name: string | null;
  min: string;
  bank_details_flag: string | null;
}

const detailsOf = (r: OrgRow): BankDetails => ({
  bsb: r.bank_bsb,
  account: r.bank_account,
  accountName: r.bank_account_name,
  minBalanceCents: BigInt(r.min),
});

const ORG_SQL = `SELECT id, name, club_number, bank_bsb, bank_account, bank_account_name,
                        min_balance_after_settlement_cents::text AS min, bank_details_flag
                   FROM organisations WHERE id = $1`;

/** The club's details now (for the form). */
export async function currentBankDetails(p: BankDeps, organisationId: number) {
  const { rows } = await p.pool.query<OrgRow>(ORG_SQL, [organisationId]);
  const org = rows[0];
  if (!org) throw notFound("That organisation does not exist.");
  return {
    org: { id: org.id, name: org.name, clubNumber: org.club_number, flag: org.bank_details_flag },
    details: detailsOf(org),
  };
}

/** What a change would do, changing nothing (the confirmation page). Refuses bad values and "no change". */
export async function previewBankChange(p: BankDeps, organisationId: number, req: BankDetailsRequest) {
  const { org, details } = await currentBankDetails(p, organisationId);
  const after = applyRequest(details, req);
  const changes = differences(org.name, details, after);
  if (!changes.length) throw badInput("Nothing to change: these are the club's details already.");
  return { org, before: details, after, changes, seen: detailsFingerprint(details) };
}

export interface BankChangeCommand {
  organisationId: number;
  request: BankDetailsRequest;
  /** The form's request id (web) or a fresh id (CLI): the same one twice changes once. */
  requestKey: string;
  actorUserId: number | null;
  source: "web" | "cli";
  /** The fingerprint of the details the confirmation page showed; a different one now is refused. */
  seen?: string;
  /** Who, for the audit trail (written in the change's transaction). */
  audit: AuditActor;
}

export interface BankChangeOutcome {
  changeId: number;
  replayed: boolean;
  changes: { field: string; old: string; new: string }[];
  clearedFlag: string | null;
  notified: number;
}

/** Who is told about a change of the club's bank details: every officer of the club (view or edit). */
async function officerMessages(client: TxClient, org: OrgRow, changeId: number, changes: BankChangeOutcome["changes"]) {
  const { rows } = await client.query<{ user_id: number }>(
    `SELECT DISTINCT g.user_id FROM role_grants g JOIN users u ON u.id = g.user_id
      WHERE g.organisation_id = $1 AND u.is_active ORDER BY g.user_id`,
    [org.id],
  );
  // Account numbers are shown by their last three digits only: the message also goes by e-mail.
  const masked = (field: string, v: string) =>
    field === "Account number" && /^\d+$/.test(v) ? `ending ${v.slice(-3)}` : v;
  const shown = changes.map((c) => ({ field: c.field, old: masked(c.field, c.old), new: masked(c.field, c.new) }));
  const lines = shown.map((c) => `${c.field}: ${c.old} → ${c.new}`).join("; ");
  return rows.map(
    (r): NotificationInput => ({
      userId: r.user_id,
      kind: "BANK_DETAILS_CHANGED",
      subject: `${org.name}: bank details changed`,
      body:
        `The federation's finance team changed ${org.name}'s settlement details. ${lines}. The next settlement ` +
        "is paid to these details. If you did not ask for this change, contact the federation's finance team at once.",
      linkUrl: `/payments/statement-org/${org.id}`,
      linkText: "View the club",
      data: { template: "bank-details-changed", orgName: org.name, changes: shown },
      dedupeKey: `bank-details:${changeId}:${r.user_id}`,
    }),
  );
}

/**
 * Changes the club's details in one transaction: the club row locked, the change recorded, the officers' messages
 * written. The same request key again answers the first change (replayed) when it asked for the same values.
 */
export async function changeBankDetails(p: BankDeps, cmd: BankChangeCommand): Promise<BankChangeOutcome> {
  try {
    return await inTransaction(p.pool, async (client) => {
      const { rows } = await client.query<OrgRow>(`${ORG_SQL} FOR UPDATE`, [cmd.organisationId]);
      const org = rows[0];
      if (!org) throw notFound("That organisation does not exist.");
      // Read after the lock: a confirmation of the same form that committed meanwhile is seen here.
      const replay = await replayOf(client, org, cmd);
      if (replay) return replay;
      const before = detailsOf(org);
      const after = applyRequest(before, cmd.request);
      const changes = differences(org.name, before, after);
      if (cmd.seen !== undefined && cmd.seen !== detailsFingerprint(before)) {
        throw conflict(
          `${org.name}'s details were changed by someone else after you reviewed them. Nothing was changed: review the change again.`,
        );
      }
      if (!changes.length) throw badInput("Nothing to change: these are the club's details already.");
      const bankChanged =
        before.bsb !== after.bsb || before.account !== after.account || before.accountName !== after.accountName;
      const clearedFlag = bankChanged ? org.bank_details_flag : null;
      await client.query(
        `UPDATE organisations SET bank_bsb = $2, bank_account = $3, bank_account_name = $4,
                                  min_balance_after_settlement_cents = $5, updated_at = now()
          WHERE id = $1`,
        [org.id, after.bsb, after.account, after.accountName, String(after.minBalanceCents)],
      );
      const inserted = await client.query<{ id: number }>(
        `INSERT INTO organisation_bank_changes (organisation_id, request_key, changed_by_user_id, source, old_bsb,
                new_bsb, old_account, new_account, old_account_name, new_account_name, old_min_balance_cents,
                new_min_balance_cents, cleared_flag)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
        [
          org.id,
          cmd.requestKey,
          cmd.actorUserId,
          cmd.source,
          before.bsb,
          after.bsb,
          before.account,
          after.account,
          before.accountName,
          after.accountName,
          String(before.minBalanceCents),
          String(after.minBalanceCents),
          clearedFlag,
        ],
      );
      const changeId = inserted.rows[0]!.id;
      await recordAudit(client, {
        ...cmd.audit,
        action: "org.bank_details",
        targetType: "organisation",
        targetId: org.id,
        orgId: org.id,
        before: { ...before, flag: org.bank_details_flag },
        after: { ...after, changeId },
      });
      const messages = await officerMessages(client, org, changeId, changes);
      await writeNotifications(client, messages);
      p.logger?.info(
        {
          organisationId: org.id,
          changeId,
          actor: cmd.actorUserId,
          source: cmd.source,
          fields: changes.map((c) => c.field),
        },
        "club bank details changed",
      );
      return { changeId, replayed: false, changes, clearedFlag, notified: messages.length };
    });
  } catch (e) {
    // Two sends of one form at once for different clubs cannot both take the key: the second is a reused form.
    if (e instanceof Error && "code" in e && e.code === "23505") {
      throw conflict("This form was already used for another change. Nothing was changed: start again.");
    }
    throw e;
  }
}

async function replayOf(client: TxClient, org: OrgRow, cmd: BankChangeCommand): Promise<BankChangeOutcome | null> {
  const { rows } = await client.query<{
    id: number;
    organisation_id: number;
    old_bsb: string | null;
    new_bsb: string | null;
    old_account: string | null;
    new_account: string | null;
    old_account_name: string | null;
    new_account_name: string | null;
    old_min: string;
    new_min: string;
    cleared_flag: string | null;
  }>(
    `SELECT id, organisation_id, old_bsb, new_bsb, old_account, new_account, old_account_name, new_account_name,
            old_min_balance_cents::text AS old_min, new_min_balance_cents::text AS new_min, cleared_flag
       FROM organisation_bank_changes WHERE request_key = $1`,
    [cmd.requestKey],
  );
  const done = rows[0];
  if (!done) return null;
  const old: BankDetails = {
    bsb: done.old_bsb,
    account: done.old_account,
    accountName: done.old_account_name,
    minBalanceCents: BigInt(done.old_min),
  };
  const made: BankDetails = {
    bsb: done.new_bsb,
    account: done.new_account,
    accountName: done.new_account_name,
    minBalanceCents: BigInt(done.new_min),
  };
  let asked: BankDetails | null = null;
  try {
    asked = applyRequest(old, cmd.request);
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
  }
  if (done.organisation_id !== org.id || !asked || detailsFingerprint(asked) !== detailsFingerprint(made)) {
    throw conflict("This form was already used for another change. Nothing was changed: start again.");
  }
  return {
    changeId: done.id,
    replayed: true,
    changes: differences(org.name, old, made),
    clearedFlag: done.cleared_flag,
    notified: 0,
  };
}

export interface BankChangeRow {
  id: number;
  organisationId: number;
  clubName: string;
  clubNumber: string;
  createdAt: Date;
  who: string;
  changes: { field: string; old: string; new: string }[];
  clearedFlag: string | null;
}

/** Changes, newest first: one club's, or every club's (the settlement history). */
export async function bankChanges(
  db: Db,
  opts: { organisationId?: number; limit?: number } = {},
): Promise<BankChangeRow[]> {
  const rows = await db.organisationBankChange.findMany({
    where: opts.organisationId ? { organisationId: opts.organisationId } : {},
    orderBy: { id: "desc" },
    take: opts.limit ?? 30,
  });
  const [orgs, users] = await Promise.all([
    db.organisation.findMany({
      where: { id: { in: [...new Set(rows.map((r) => r.organisationId))] } },
      select: { id: true, name: true, clubNumber: true },
    }),
    db.user.findMany({
      where: { id: { in: rows.flatMap((r) => (r.changedByUserId ? [r.changedByUserId] : [])) } },
      select: { id: true, firstName: true, lastName: true, systemNumber: true },
    }),
  ]);
  const orgOf = new Map(orgs.map((o) => [o.id, o]));
  const userOf = new Map(users.map((u) => [u.id, u]));
  return rows.map((r) => {
    const org = orgOf.get(r.organisationId)!;
    const u = r.changedByUserId ? userOf.get(r.changedByUserId) : undefined;
    const old = {
      bsb: r.oldBsb,
      account: r.oldAccount,
      accountName: r.oldAccountName,
      minBalanceCents: r.oldMinBalanceCents,
    };
    const made = {
      bsb: r.newBsb,
      account: r.newAccount,
      accountName: r.newAccountName,
      minBalanceCents: r.newMinBalanceCents,
    };
    return {
      id: r.id,
      organisationId: r.organisationId,
      clubName: org.name,
      clubNumber: org.clubNumber,
      createdAt: r.createdAt,
      who: u ? `${u.firstName} ${u.lastName} (ABF ${u.systemNumber})` : "Operator (command line)",
      changes: differences(org.name, old, made),
      clearedFlag: r.clearedFlag,
    };
  });
}
