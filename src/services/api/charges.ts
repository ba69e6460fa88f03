// Charging a member through the API: payment_api_batch semantics (auto top-up included), and when the money is
// not there, per `when_insufficient`: fail, record an IOU to the organisation, or make a card checkout
// (payment_api_interactive) that completes the charge when the card payment lands. The charge's key is also the
// ledger posting's key, so running the same request again (a retry after a crash) books nothing new.
import { AppError } from "../../lib/errors";
import type { TransactionType } from "../ledger/transaction-types";
import { createIou } from "../payments/ious";
import { paymentApiBatch } from "../payments/payment-api-batch";
import { paymentApiInteractive } from "../payments/payment-api-interactive";
import { API_ROUTE_CODE, type ApiServices, type ChargeCaller, mayReadBalances } from "./api-services";
import { type ChargeRow, type ChargeView, chargeByKey, chargeView, recordCharge } from "./charge-records";
import { ApiProblem, problem } from "./problem";
import type { ChargeRequest } from "./schemas";

export type ChargeOutcome = { status: number; charge: ChargeView };

interface Parties {
  user: { id: number; isActive: boolean };
  organisationId: number | null;
  payeeUserId: number | null;
}

/** Who pays whom, checked against what the key may do. */
export async function resolveParties(s: ApiServices, caller: ChargeCaller, req: ChargeRequest): Promise<Parties> {
  const db = s.p.db;
  // The member and a named organisation in one plain query: this runs for every charge.
  const { rows } = await s.p.pool.query<{ user_id: number | null; is_active: boolean | null; org_id: number | null }>(
    `SELECT u.id AS user_id, u.is_active, (SELECT id FROM organisations WHERE club_number = $2) AS org_id
       FROM (SELECT 1) one LEFT JOIN users u ON u.system_number = $1`,
    [req.member, req.organisation ?? null],
  );
  const found = rows[0]!;
  const user = found.user_id === null ? null : { id: found.user_id, isActive: found.is_active === true };
  const named = req.organisation === undefined || found.org_id === null ? null : { id: found.org_id };
  if (!user) throw problem("member_not_found", `No member has ABF number ${req.member}.`);
  if (req.organisation !== undefined && req.payee_member !== undefined) {
    throw problem("invalid_request", "A charge pays an organisation or a member, not both.");
  }
  if (caller.organisationId !== null) {
    if (req.payee_member !== undefined) {
      throw problem("forbidden_scope", "An organisation's key charges only to its own organisation.");
    }
    if (req.organisation !== undefined) {
      if (named?.id !== caller.organisationId) {
        throw problem("forbidden_scope", "An organisation's key charges only to its own organisation.");
      }
    }
    return { user, organisationId: caller.organisationId, payeeUserId: null };
  }
  if (req.payee_member !== undefined) {
    if (req.payee_member === req.member) throw problem("invalid_request", "A member cannot pay themselves.");
    const payee = await db.user.findUnique({ where: { systemNumber: req.payee_member }, select: { id: true } });
    if (!payee) throw problem("member_not_found", `No member has ABF number ${req.payee_member}.`);
    return { user, organisationId: null, payeeUserId: payee.id };
  }
  if (req.organisation === undefined) {
    throw problem("invalid_request", "A federation key must name the organisation (or payee_member) to pay.");
  }
  if (!named) throw problem("not_found", `No organisation has club number ${req.organisation}.`);
  return { user, organisationId: named.id, payeeUserId: null };
}

const typeOf = (req: ChargeRequest, p: Parties): TransactionType =>
  req.event_id ? "Entry to an event" : p.payeeUserId ? "Member Transfer" : "Club Payment";

/** Checks that the key may use the `when_insufficient` it asked for (before anything runs). */
export function checkChargeScopes(caller: ChargeCaller, req: ChargeRequest) {
  const need =
    req.when_insufficient === "iou" ? "ious:write" : req.when_insufficient === "checkout" ? "checkouts:write" : null;
  if (!caller.scopes.includes("charges:write"))
    throw problem("forbidden_scope", "This key lacks the charges:write scope.");
  if (need && !caller.scopes.includes(need)) {
    throw problem("forbidden_scope", `when_insufficient "${req.when_insufficient}" needs the ${need} scope.`);
  }
}

/** One charge, under `chargeKey`. Answers the charge with its status (201, or 402 as a problem). */
export async function runCharge(
  s: ApiServices,
  caller: ChargeCaller,
  req: ChargeRequest,
  chargeKey: string,
): Promise<ChargeOutcome> {
  const done = await chargeByKey(s.p.pool, chargeKey);
  if (done) return outcomeOf(s, caller, done);

  const parties = await resolveParties(s, caller, req);
  if (!parties.user.isActive) throw problem("member_inactive", `Member ${req.member}'s account is not active.`);
  if (req.when_insufficient === "iou" && parties.organisationId === null) {
    throw problem("invalid_request", 'when_insufficient "iou" needs an organisation as the payee.');
  }
  const amountCents = BigInt(req.amount);
  const payment = {
    memberId: parties.user.id,
    amountCents,
    description: req.description,
    organisationId: parties.organisationId,
    otherMemberId: parties.payeeUserId,
    type: typeOf(req, parties),
    clubSessionId: req.session_id ?? null,
    eventId: req.event_id ?? null,
    idempotencyKey: chargeKey,
  };
  const base = {
    chargeKey,
    apiKeyId: caller.keyId,
    sessionBatchId: caller.sessionBatchId ?? null,
    amountCents,
    userId: parties.user.id,
    organisationId: parties.organisationId,
    payeeUserId: parties.payeeUserId,
    req,
  };
  try {
    if (req.when_insufficient === "checkout") {
      const r = await paymentApiInteractive(s.p, {
        ...payment,
        routeCode: API_ROUTE_CODE,
        routePayload: chargeKey,
        nextUrl: "/dashboard",
      });
      const row =
        r.kind === "paid"
          ? await recordCharge(s, {
              ...base,
              status: "succeeded",
              postingId: r.postingId,
              balanceAfterCents: r.balanceAfterCents,
              topUpCents: r.topUpCents,
            })
          : await recordCharge(s, { ...base, status: "pending", cardPaymentId: r.cardPaymentId });
      return outcomeOf(s, caller, row);
    }
    const r = await paymentApiBatch(s.p, payment);
    if (r.ok) {
      const row = await recordCharge(s, {
        ...base,
        status: "succeeded",
        postingId: r.postingId,
        balanceAfterCents: r.balanceAfterCents,
        topUpCents: r.topUpCents,
      });
      return outcomeOf(s, caller, row);
    }
    const failureCode = r.reason === "TOP_UP_FAILED" ? "top_up_failed" : "insufficient_funds";
    if (req.when_insufficient === "iou") {
      let row: ChargeRow | null = null;
      await createIou(
        s.p,
        {
          systemNumber: req.member,
          organisationId: parties.organisationId!,
          amountCents,
          description: req.description,
          clubSessionId: req.session_id ?? null,
        },
        // createIou records iou.created in this transaction too.
        async (client, iou) => {
          row = await recordCharge(s, { ...base, status: "iou", iouId: iou.id, failureCode }, client);
        },
      );
      return outcomeOf(s, caller, row!);
    }
    const row = await recordCharge(s, { ...base, status: "failed", failureCode, balanceAfterCents: r.balanceCents });
    return outcomeOf(s, caller, row);
  } catch (e) {
    // The key was used before for a different posting (only possible once its idempotency record has gone).
    if (e instanceof AppError && e.code === "CONFLICT") throw problem("idempotency_conflict", e.message);
    if (e instanceof AppError && e.code === "BAD_INPUT") throw problem("invalid_request", e.message);
    throw e;
  }
}

/** A recorded charge as the answer: 201, or for a failed one the 402 problem (with the balance, if allowed). */
function outcomeOf(s: ApiServices, caller: ChargeCaller, row: ChargeRow): ChargeOutcome {
  if (row.status === "failed") {
    const topUp = row.failure_code === "top_up_failed" ? " The auto top-up from the saved card failed." : "";
    throw new ApiProblem("insufficient_funds", `The member's balance does not cover the charge.${topUp}`, {
      charge: `ch_${row.id}`,
      ...(mayReadBalances(caller) && row.balance_after_cents !== null
        ? { balance: Number(row.balance_after_cents) }
        : {}),
    });
  }
  return { status: 201, charge: chargeView(s, row, caller) };
}
