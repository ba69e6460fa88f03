// Many charges in one call (a session's table money): each item is atomic on its own and answered in order.
// The same service serves a page: `previewBatch` says what each charge would do and books nothing;
// `runBatch` books them (idempotent under its key, like a single charge).
import type { ApiServices, ChargeCaller } from "./api-services";
import { type ChargeOutcome, checkChargeScopes, runCharge } from "./charges";
import { ApiProblem, type ProblemBody } from "./problem";
import type { ChargeRequest } from "./schemas";

export type BatchItemResult =
  | { index: number; status: number; charge: ChargeOutcome["charge"] }
  | { index: number; status: number; error: ProblemBody };

/** At most this many charges of a batch run at once (they share the ledger's batches). */
const PARALLEL = 16;

/**
 * Runs every charge; item i is booked under `<batchKey>:<i>`. The items a charge group can book (the balance
 * covers them) go through it, many per transaction (charge-group.ts); the rest run one by one as a single charge
 * would. A problem with one item (unknown member, not enough money) is that item's answer; an unexpected failure
 * fails the call once every item has finished, so a retry runs the batch again and finds what was already booked.
 */
export async function runBatch(
  s: ApiServices,
  caller: ChargeCaller,
  items: ChargeRequest[],
  batchKey: string,
): Promise<BatchItemResult[]> {
  for (const item of items) checkChargeScopes(caller, item);
  const results: BatchItemResult[] = new Array(items.length);
  const group = s.chargeGroup;
  const grouped = group
    ? await Promise.all(items.map((req, i) => group.submitItem({ caller, req, chargeKey: `${batchKey}:${i}` })))
    : [];
  const alone: number[] = [];
  for (let index = 0; index < items.length; index++) {
    const charge = grouped[index];
    if (charge) results[index] = { index, status: 201, charge };
    else alone.push(index);
  }
  let unexpected: unknown = null;
  let next = 0;
  const worker = async () => {
    while (next < alone.length) {
      const index = alone[next++]!;
      try {
        const r = await runCharge(s, caller, items[index]!, `${batchKey}:${index}`);
        results[index] = { index, status: r.status, charge: r.charge };
      } catch (e) {
        if (!(e instanceof ApiProblem)) {
          unexpected ??= e;
          continue;
        }
        results[index] = { index, status: e.status, error: e.body() };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, alone.length) }, worker));
  if (unexpected) throw unexpected;
  return results;
}

export type PreviewOutcome =
  /** The balance covers it. */
  | "pays"
  /** Not enough money, but auto top-up is on: the saved card will be charged. */
  | "tops_up"
  /** Not enough money: an IOU will be recorded (when_insufficient "iou"). */
  | "iou"
  /** Not enough money: a checkout link for the member (when_insufficient "checkout"). */
  | "checkout"
  /** Not enough money: the charge fails. */
  | "insufficient"
  | "unknown_member"
  | "inactive_member";

/**
 * What each charge would do now, booking nothing: balances are read as they are (several charges to one member
 * are added up in order). The outcome may differ by the time the batch is confirmed, if balances change.
 */
export async function previewBatch(s: ApiServices, items: ChargeRequest[]) {
  const numbers = [...new Set(items.map((i) => i.member))];
  const users = await s.p.db.user.findMany({
    where: { systemNumber: { in: numbers } },
    select: {
      systemNumber: true,
      firstName: true,
      lastName: true,
      isActive: true,
      autoTopUpStatus: true,
      account: { select: { balanceCents: true } },
    },
  });
  const byNumber = new Map(users.map((u) => [u.systemNumber, u]));
  const running = new Map<number, bigint>();
  return items.map((item, index) => {
    const u = byNumber.get(item.member);
    const base = { index, member: item.member, amount: item.amount, description: item.description };
    if (!u) return { ...base, name: null, outcome: "unknown_member" as PreviewOutcome, balance: null };
    const name = `${u.firstName} ${u.lastName}`;
    if (!u.isActive) return { ...base, name, outcome: "inactive_member" as PreviewOutcome, balance: null };
    const balance = running.get(item.member) ?? u.account?.balanceCents ?? 0n;
    const amount = BigInt(item.amount);
    let outcome: PreviewOutcome;
    if (amount <= balance) outcome = "pays";
    else if (u.autoTopUpStatus === "ON") outcome = "tops_up";
    else outcome = item.when_insufficient === "fail" ? "insufficient" : item.when_insufficient;
    if (outcome === "pays") running.set(item.member, balance - amount);
    return { ...base, name, outcome, balance };
  });
}
