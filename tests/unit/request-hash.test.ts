// The posting fingerprint is stored with every posting and compared when a key comes back, so its spelling may
// never change: requestHash (written out by hand for speed) must equal SHA-256 of the original JSON form.
import { createHash } from "node:crypto";
import fc from "fast-check";
import { refKey, requestHash } from "../../src/services/ledger/book-postings";
import type { EntryInput, PostingInput } from "../../src/services/ledger/posting";
import { TRANSACTION_TYPES } from "../../src/services/ledger/transaction-types";

/** The fingerprint as first defined: JSON.stringify of the canonical request. */
function reference(p: PostingInput): string {
  const canonical = JSON.stringify([
    p.type,
    p.description,
    p.actorUserId ?? null,
    p.clubSessionId ?? null,
    p.eventId ?? null,
    p.cardPaymentId ?? null,
    !!p.allowOverdraft,
    p.entries.map((e) => [refKey(e), e.amountCents.toString(), null, e.counterparty ?? null]),
  ]);
  return createHash("sha256").update(canonical).digest("hex").slice(0, 32);
}

const id = fc.option(fc.integer({ min: 1, max: 2 ** 31 - 1 }), { nil: undefined });
const type = fc.constantFrom(...TRANSACTION_TYPES);
const entry: fc.Arbitrary<EntryInput> = fc.record(
  {
    accountId: id,
    userId: id,
    organisationId: id,
    system: fc.option(fc.constantFrom("CARD_FUNDS", "FEE_INCOME") as fc.Arbitrary<"CARD_FUNDS" | "FEE_INCOME">, {
      nil: undefined,
    }),
    amountCents: fc.bigInt({ min: -(10n ** 13n), max: 10n ** 13n }),
    counterparty: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
  },
  { requiredKeys: ["amountCents"] },
);
const posting: fc.Arbitrary<PostingInput> = fc.record(
  {
    idempotencyKey: fc.string({ minLength: 1 }),
    type,
    // Quotes, backslashes, control characters and any Unicode: JSON's escaping must be matched exactly.
    description: fc.string({ unit: "binary" }),
    entries: fc.array(entry, { minLength: 1, maxLength: 4 }),
    actorUserId: fc.option(fc.integer({ min: 1, max: 2 ** 31 - 1 })),
    clubSessionId: fc.option(fc.integer({ min: 1, max: 2 ** 31 - 1 })),
    eventId: fc.option(fc.integer({ min: 1, max: 2 ** 31 - 1 })),
    cardPaymentId: fc.option(fc.integer({ min: 1, max: 2 ** 31 - 1 })),
    allowOverdraft: fc.boolean(),
  },
  { requiredKeys: ["idempotencyKey", "type", "description", "entries"] },
);

test("requestHash equals SHA-256 of the original JSON form, for any posting", () => {
  fc.assert(
    fc.property(posting, (p) => {
      expect(requestHash(p)).toBe(reference(p));
      expect(requestHash(p, p.entries.map(refKey))).toBe(reference(p));
    }),
    { numRuns: 2000 },
  );
});

test("a known posting keeps its known fingerprint", () => {
  const p: PostingInput = {
    idempotencyKey: "k",
    type: "Club Payment",
    description: 'Table fee "Monday" \\ Łukasz',
    entries: [
      { userId: 12, amountCents: -1234n, counterparty: 1 },
      { organisationId: 3, amountCents: 1234n, counterparty: 0 },
    ],
  };
  expect(requestHash(p)).toBe(reference(p));
  expect(requestHash(p)).toMatch(/^[0-9a-f]{32}$/);
});
