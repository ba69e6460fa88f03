// What the payments core needs from a card processor. The Stripe gateway implements it; so does the
// "not configured" gateway used when no card processor is set up.

export type CardChargeOutcome =
  /** Money taken; a card payment record exists with status SUCCEEDED. */
  | { status: "succeeded"; cardPaymentId: number; cardLabel: string }
  /** The bank refused. `hard`: give up (auto top-up is switched off); `authentication_required`: ask the member. */
  | { status: "declined"; kind: "hard" | "authentication_required"; message: string }
  /** We do not know whether money was taken (timeout, processor error): the webhook will tell. */
  | { status: "unknown"; message: string }
  /** Card payments are not available at all. */
  | { status: "unavailable"; message: string };

export interface ChargeSavedCardRequest {
  userId: number;
  amountCents: bigint;
  description: string;
  /** Stable for retries of the same charge, so the processor never charges twice. */
  idempotencyKey: string;
}

export interface CardGateway {
  /** Charges the member's saved card without them present (auto top-up, "use my registered card"). */
  chargeSavedCard(req: ChargeSavedCardRequest): Promise<CardChargeOutcome>;
}

export class UnconfiguredCardGateway implements CardGateway {
  async chargeSavedCard(): Promise<CardChargeOutcome> {
    return { status: "unavailable", message: "Card payments are not set up on this system." };
  }
}
