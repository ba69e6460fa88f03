// Converts postings to and from the JSON the `ledger_post` SQL function (see the ledger migration) speaks.
import { randomBytes } from "node:crypto";
import type { PostingInput, PostingResult } from "./posting";

const REF_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/** A statement reference like 7QK2-A9ZP-M4CX: three groups of four, no easily confused characters. */
export function newReferenceNo(): string {
  const bytes = randomBytes(12);
  let s = "";
  for (let i = 0; i < 12; i++) {
    s += REF_ALPHABET[bytes[i]! % REF_ALPHABET.length];
    if (i === 3 || i === 7) s += "-";
  }
  return s;
}

const MAX_CENTS = 10n ** 13n; // $100 billion: far beyond any real posting, well inside 2^53

export function toSqlPosting(p: PostingInput): Record<string, unknown> {
  return {
    key: p.idempotencyKey,
    type: p.type,
    description: p.description,
    ref: newReferenceNo(),
    actor: p.actorUserId ?? null,
    session: p.clubSessionId ?? null,
    event: p.eventId ?? null,
    card: p.cardPaymentId ?? null,
    overdraft: p.allowOverdraft ?? false,
    ...(p.at ? { at: p.at.toISOString() } : {}),
    entries: p.entries.map((e) => {
      if (e.amountCents > MAX_CENTS || e.amountCents < -MAX_CENTS) throw new RangeError("amount out of range");
      return {
        acct: e.accountId,
        // JSON has no integers beyond 2^53; the range check above keeps this exact.
        amount: Number(e.amountCents),
        ...(e.type ? { type: e.type } : {}),
        ...(e.counterparty !== undefined ? { cp: e.counterparty } : {}),
      };
    }),
  };
}

export interface SqlResultRow {
  idx: number;
  status: string;
  posting_id: string | bigint | null;
  detail: Record<string, unknown>;
}

export function fromSqlResult(row: SqlResultRow): PostingResult {
  const pid = row.posting_id === null ? null : BigInt(row.posting_id);
  const d = row.detail;
  switch (row.status) {
    case "POSTED": {
      const accounts = d.accounts as number[];
      const balances = d.balances as number[];
      return {
        status: "POSTED",
        postingId: pid!,
        balances: accounts.map((a, i) => ({ accountId: a, balanceAfterCents: BigInt(balances[i]!) })),
      };
    }
    case "DUPLICATE":
      return { status: "DUPLICATE", postingId: pid! };
    case "KEY_REUSED":
      return { status: "KEY_REUSED", postingId: pid! };
    case "INSUFFICIENT_FUNDS":
      return {
        status: "INSUFFICIENT_FUNDS",
        accountId: Number(d.account),
        balanceCents: BigInt(d.balance as number),
        amountCents: BigInt(d.amount as number),
      };
    default:
      return { status: "INVALID", reason: String(d.reason ?? row.status) };
  }
}
