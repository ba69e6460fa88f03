// The API's request and answer shapes, as zod schemas: the same schemas validate requests and generate the
// OpenAPI document (openapi.ts), so the document cannot drift from what the API accepts.
import { z } from "zod";
import { API_SCOPES } from "./keys";
import { PROBLEM_CODES, type ProblemCode } from "./problem";

const INT4_MAX = 2_147_483_647;
/** The most one API charge may be: $100,000. */
export const MAX_CHARGE_CENTS = 10_000_000;
export const MAX_BATCH = 500;
export const MAX_METADATA_KEYS = 20;

const abfNumber = z
  .number({ message: "must be an ABF number" })
  .int("must be a whole number")
  .positive("must be a positive ABF number")
  .max(INT4_MAX, "is too large")
  .meta({ description: "An ABF (system) number.", example: 620001 });
const cents = z
  .number({ message: "must be an amount in cents" })
  .int("must be a whole number of cents")
  .positive("must be more than zero")
  .max(MAX_CHARGE_CENTS, `must be at most ${MAX_CHARGE_CENTS} cents`)
  .meta({ description: "Integer cents (AUD).", example: 1500 });
const optionalId = z.number().int("must be a whole number").positive("must be positive").max(INT4_MAX).optional();
const clubNumber = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(20, "is too long")
  .meta({ description: "An organisation's club number.", example: "1101" });

const metadata = z
  .record(z.string().min(1).max(40), z.string().max(500))
  .refine((m) => Object.keys(m).length <= MAX_METADATA_KEYS, `may have at most ${MAX_METADATA_KEYS} keys`)
  .meta({ description: `Up to ${MAX_METADATA_KEYS} string values of your own, given back as sent.` });

export const chargeRequest = z
  .strictObject({
    member: abfNumber,
    amount: cents,
    currency: z.literal("aud", { message: 'must be "aud"' }),
    description: z.string().trim().min(1, "must not be empty").max(80, "must be at most 80 characters"),
    when_insufficient: z
      .enum(["fail", "iou", "checkout"], { message: 'must be "fail", "iou" or "checkout"' })
      .default("fail")
      .meta({
        description:
          "What happens when the balance (after any auto top-up) does not cover the charge: fail with 402, " +
          "record an IOU to the organisation (scope ious:write), or make a card checkout for the member " +
          "(scope checkouts:write).",
      }),
    organisation: clubNumber
      .optional()
      .meta({ description: "The payee organisation's club number (an organisation key: its own, or leave out)." }),
    payee_member: abfNumber
      .optional()
      .meta({ description: "A member to pay instead of an organisation (federation keys only)." }),
    reference: z.string().trim().min(1).max(100).optional().meta({ description: "Your own id for this charge." }),
    session_id: optionalId,
    event_id: optionalId,
    metadata: metadata.optional(),
  })
  .meta({ id: "ChargeRequest" });
export type ChargeRequest = z.output<typeof chargeRequest>;

export const batchRequest = z
  .strictObject({
    charges: z
      .array(chargeRequest)
      .min(1, "must have at least one charge")
      .max(MAX_BATCH, `may have at most ${MAX_BATCH} charges`),
  })
  .meta({ id: "BatchChargeRequest" });

export const refundRequest = z
  .strictObject({
    charge: z.string().regex(/^ch_\d{1,9}$/, "must be a charge id (ch_…)"),
    amount: cents.optional().meta({ description: "Cents to give back; what is left of the charge when omitted." }),
    description: z.string().trim().min(1).max(80).optional(),
  })
  .meta({ id: "RefundRequest" });

export const iouRequest = z
  .strictObject({
    member: abfNumber,
    amount: cents,
    currency: z.literal("aud", { message: 'must be "aud"' }),
    description: z.string().trim().min(1, "must not be empty").max(100, "must be at most 100 characters"),
    organisation: clubNumber.optional().meta({ description: "Required for federation keys." }),
    session_id: optionalId,
  })
  .meta({ id: "IouRequest" });

export const listChargesQuery = z.strictObject({
  reference: z.string().min(1).max(100).optional(),
  created_after: z.iso.datetime({ offset: true, message: "must be an ISO 8601 date-time" }).optional(),
  cursor: z
    .string()
    .regex(/^\d{1,9}$/, "must be a cursor from an earlier page")
    .optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

const isoTime = z.string().meta({ format: "date-time", example: "2026-11-30T10:00:00.000Z" });

export const chargeSchema = z
  .strictObject({
    id: z.string().meta({ example: "ch_42" }),
    object: z.literal("charge"),
    status: z.enum(["succeeded", "failed", "pending", "iou"]).meta({
      description:
        "succeeded: booked; failed: not enough money (or its checkout expired); pending: waiting for the " +
        "member's card payment at checkout_url; iou: an IOU to the organisation was recorded instead.",
    }),
    amount: z.number().int(),
    amount_refunded: z.number().int(),
    currency: z.literal("aud"),
    member: z.number().int(),
    organisation: z.string().nullable(),
    payee_member: z.number().int().nullable(),
    description: z.string(),
    reference: z.string().nullable(),
    session_id: z.number().int().nullable(),
    event_id: z.number().int().nullable(),
    metadata: z.record(z.string(), z.string()),
    posting_reference: z.string().nullable().meta({ description: "The ledger's reference of the booking." }),
    balance_after: z
      .number()
      .int()
      .nullable()
      .optional()
      .meta({ description: "The member's balance after the charge; only for federation keys with read." }),
    top_up_amount: z.number().int().nullable().meta({ description: "An auto top-up taken from the saved card." }),
    iou: z.string().nullable(),
    checkout_url: z.string().nullable(),
    failure_code: z.string().nullable().meta({
      description:
        "Why a charge failed: insufficient_funds, top_up_failed, checkout_expired; for a checkout whose card payment landed but whose purchase could not be made: insufficient_funds, member_inactive or purchase_failed (the card payment stays on the member's balance).",
    }),
    created: isoTime,
  })
  .meta({ id: "Charge" });

export const problemSchema = z
  .strictObject({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.enum(Object.keys(PROBLEM_CODES) as [ProblemCode, ...ProblemCode[]]),
    balance: z.number().int().optional().meta({ description: "insufficient_funds, for keys that may read it." }),
    charge: z.string().optional().meta({ description: "insufficient_funds: the failed charge's id." }),
    request_id: z.string().optional(),
  })
  .meta({ id: "Problem", description: "RFC 9457 problem details." });

export const batchResultSchema = z
  .strictObject({
    object: z.literal("list"),
    data: z.array(
      z
        .strictObject({
          index: z.number().int(),
          status: z.number().int().meta({ description: "The status this charge alone would have answered." }),
          charge: chargeSchema.optional(),
          error: problemSchema.optional(),
        })
        .meta({ id: "BatchItemResult" }),
    ),
  })
  .meta({ id: "BatchChargeResult" });

export const chargeListSchema = z
  .strictObject({
    object: z.literal("list"),
    data: z.array(chargeSchema),
    has_more: z.boolean(),
    next_cursor: z.string().nullable(),
  })
  .meta({ id: "ChargeList" });

export const refundSchema = z
  .strictObject({
    id: z.string().meta({ example: "re_7" }),
    object: z.literal("refund"),
    charge: z.string(),
    amount: z.number().int(),
    currency: z.literal("aud"),
    description: z.string(),
    posting_reference: z.string(),
    charge_amount_refunded: z.number().int(),
    created: isoTime,
  })
  .meta({ id: "Refund" });

export const iouSchema = z
  .strictObject({
    id: z.string().meta({ example: "iou_3" }),
    object: z.literal("iou"),
    status: z.enum(["unpaid", "cancelled"]),
    member: z.number().int(),
    organisation: z.string(),
    amount: z.number().int(),
    currency: z.literal("aud"),
    description: z.string(),
    session_id: z.number().int().nullable(),
    created: isoTime,
  })
  .meta({ id: "Iou" });

export const memberSchema = z
  .strictObject({
    object: z.literal("member"),
    member: z.number().int(),
    name: z.string(),
    active: z.boolean(),
    chargeable: z.boolean(),
    auto_top_up: z.boolean(),
    balance: z.number().int().optional().meta({ description: "Only for federation keys with read." }),
  })
  .meta({ id: "Member" });

export const scopeSchema = z.enum(API_SCOPES);
