// The OpenAPI 3.1 document of /api/v1, generated from the zod schemas that validate the requests (schemas.ts).
import { OpenAPIRegistry, OpenApiGeneratorV31, type ResponseConfig } from "@asteasolutions/zod-to-openapi";
import { z } from "zod";
import {
  batchRequest,
  batchResultSchema,
  chargeListSchema,
  chargeRequest,
  chargeSchema,
  iouRequest,
  iouSchema,
  listChargesQuery,
  memberSchema,
  problemSchema,
  refundRequest,
  refundSchema,
} from "./schemas";

type Responses = Record<string, ResponseConfig>;

const problemResponse = (description: string): ResponseConfig => ({
  description,
  content: { "application/problem+json": { schema: problemSchema } },
});
const ok = (description: string, schema: z.ZodType, headers?: z.ZodObject): ResponseConfig => ({
  description,
  ...(headers ? { headers } : {}),
  content: { "application/json": { schema } },
});

/** Answers every operation may give. */
const COMMON: Responses = {
  "401": problemResponse("No key, an unknown key, or a revoked or expired one (code unauthorized)."),
  "429": problemResponse("Too many calls with this key; see Retry-After (code rate_limited)."),
  default: problemResponse("Any other problem (RFC 9457 problem details with a stable code)."),
};

const idempotencyHeader = z.object({
  "Idempotency-Key": z
    .string()
    .min(1)
    .max(100)
    .meta({
      description:
        "Required on every POST. A retry with the same key and body gets the first answer again, byte for byte " +
        "(with Idempotent-Replayed: true); the same key with another body gets 422; while the first is still " +
        "running, 409. Kept at least 24 hours.",
      example: "session-2026-11-30-table-7",
    }),
});
const replayedHeader = z.object({
  "Idempotent-Replayed": z.literal("true").optional().meta({ description: "Present on a replayed answer." }),
});

const postErrors: Responses = {
  "400": problemResponse("Invalid body or missing Idempotency-Key (code invalid_request)."),
  "403": problemResponse("The key lacks the scope or may not charge that payee (code forbidden_scope)."),
  "409": problemResponse("A request with this Idempotency-Key is still running (code idempotency_in_progress)."),
  "415": problemResponse("The body is not JSON (code unsupported_media_type)."),
  "422": problemResponse("Idempotency-Key reused with another body (code idempotency_conflict), and other refusals."),
};

export function buildOpenApiDocument(serverUrl = "/api/v1") {
  const registry = new OpenAPIRegistry();
  registry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "An API key (bc_live_… or bc_test_…), made on /payments/api-keys or with `npm run admin`.",
  });
  const json = (schema: z.ZodType) => ({ content: { "application/json": { schema } }, required: true });

  registry.registerPath({
    method: "post",
    path: "/charges",
    operationId: "createCharge",
    summary: "Charge a member",
    description:
      "A member pays the key's organisation (or, with a federation key, a named organisation or member) from " +
      "their balance, with an auto top-up from their saved card when it is on. Scope charges:write.",
    tags: ["Charges"],
    request: { headers: idempotencyHeader, body: json(chargeRequest) },
    responses: {
      "201": ok("The charge: succeeded, pending (checkout_url) or iou.", chargeSchema, replayedHeader),
      "402": problemResponse("Not enough money and when_insufficient is fail (code insufficient_funds)."),
      "404": problemResponse("Unknown member (code member_not_found) or organisation (code not_found)."),
      ...postErrors,
      ...COMMON,
    },
  });
  registry.registerPath({
    method: "post",
    path: "/charges/batch",
    operationId: "createChargeBatch",
    summary: "Charge up to 500 members at once",
    description: "Each charge is booked on its own; the results come back in the order sent. Scope charges:write.",
    tags: ["Charges"],
    request: { headers: idempotencyHeader, body: json(batchRequest) },
    responses: {
      "200": ok("One result per charge, in order.", batchResultSchema, replayedHeader),
      ...postErrors,
      ...COMMON,
    },
  });
  registry.registerPath({
    method: "get",
    path: "/charges",
    operationId: "listCharges",
    summary: "List charges, newest first",
    description: "Scope read or charges:write. An organisation's key sees its organisation's charges only.",
    tags: ["Charges"],
    request: { query: listChargesQuery },
    responses: { "200": ok("A page of charges.", chargeListSchema), "400": problemResponse("Bad query."), ...COMMON },
  });
  registry.registerPath({
    method: "get",
    path: "/charges/{id}",
    operationId: "getCharge",
    summary: "Get a charge",
    tags: ["Charges"],
    request: { params: z.object({ id: z.string().meta({ example: "ch_42" }) }) },
    responses: { "200": ok("The charge.", chargeSchema), "404": problemResponse("No such charge."), ...COMMON },
  });
  registry.registerPath({
    method: "post",
    path: "/refunds",
    operationId: "createRefund",
    summary: "Give a member back all or part of a charge",
    description: "Never more than what is left of the charge. Scope refunds:write.",
    tags: ["Refunds"],
    request: { headers: idempotencyHeader, body: json(refundRequest) },
    responses: {
      "201": ok("The refund.", refundSchema, replayedHeader),
      "402": problemResponse("The organisation's balance does not cover it (code insufficient_funds)."),
      "404": problemResponse("No such charge."),
      ...postErrors,
      ...COMMON,
    },
  });
  registry.registerPath({
    method: "post",
    path: "/ious",
    operationId: "createIou",
    summary: "Record that a player owes the organisation",
    description: "Scope ious:write. The player (by ABF number) need not have an account here.",
    tags: ["IOUs"],
    request: { headers: idempotencyHeader, body: json(iouRequest) },
    responses: { "201": ok("The IOU.", iouSchema, replayedHeader), ...postErrors, ...COMMON },
  });
  const iouId = { params: z.object({ id: z.string().meta({ example: "iou_3" }) }) };
  registry.registerPath({
    method: "get",
    path: "/ious/{id}",
    operationId: "getIou",
    summary: "Get an unpaid IOU",
    description: "Scope read or ious:write. Paid and cancelled IOUs are removed and answer 404.",
    tags: ["IOUs"],
    request: iouId,
    responses: { "200": ok("The IOU.", iouSchema), "404": problemResponse("No such unpaid IOU."), ...COMMON },
  });
  registry.registerPath({
    method: "delete",
    path: "/ious/{id}",
    operationId: "cancelIou",
    summary: "Cancel an unpaid IOU",
    description: "Scope ious:write.",
    tags: ["IOUs"],
    request: iouId,
    responses: { "200": ok("The cancelled IOU.", iouSchema), "404": problemResponse("No such unpaid IOU."), ...COMMON },
  });
  registry.registerPath({
    method: "get",
    path: "/members/{abf}",
    operationId: "getMember",
    summary: "Whether a member can be charged",
    description: "Any key. The balance is shown only to federation keys with read.",
    tags: ["Members"],
    request: {
      params: z.object({
        abf: z
          .string()
          .regex(/^\d{1,10}$/)
          .meta({ example: "620001" }),
      }),
    },
    responses: { "200": ok("The member.", memberSchema), "404": problemResponse("No such member."), ...COMMON },
  });

  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: "3.1.0",
    info: {
      title: "Bridge Credits payments API",
      version: "1.0.0",
      description:
        "Charge members' Bridge Credits from your own systems (event entry, club sessions, membership). " +
        "Amounts are integer cents in AUD; members are named by ABF number; organisations by club number.",
      license: { name: "Proprietary", identifier: "LicenseRef-Proprietary" },
    },
    servers: [{ url: serverUrl }],
    security: [{ bearer: [] }],
    tags: [
      { name: "Charges", description: "Charging members." },
      { name: "Refunds", description: "Giving money back." },
      { name: "IOUs", description: "Money a player owes an organisation." },
      { name: "Members", description: "Looking members up." },
    ],
  });
}
