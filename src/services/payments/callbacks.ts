// The callback router: when a payment made for another module completes, that module is told through the
// route code it gave (the original's EVT, EV2, M2M, UPP, CAU…). Modules register their handlers here; payments
// registers its own M2M and UPP.
//
// Two kinds of handler. `register`: runs after the card payment's booking has committed (a failure there cannot
// undo the payment). `registerOnSettle`: runs inside the booking's transaction, told whether the purchase was made,
// for a module whose own record must change with the money (the API's pending charge: it must never stay
// pending once its card payment is booked, whatever happened to the purchase).
import type { Logger } from "../../lib/logger";
import type { TxClient } from "../ledger/book-postings";

export interface CallbackContext {
  /** The card payment that funded the purchase, when it went through the card checkout. */
  cardPaymentId?: number | null;
}

/** Why a card payment's purchase was not made (the card's credit stays on the member's balance). */
export type PurchaseRefusal = "insufficient_funds" | "member_inactive" | "not_bookable";

export interface SettleContext {
  cardPaymentId: number;
  /** The purchase's posting, or why there is none. */
  purchase: { made: true; postingId: bigint } | { made: false; reason: PurchaseRefusal };
}

export type CallbackHandler = (payload: string, ctx: CallbackContext) => Promise<void>;
export type SettleHandler = (client: TxClient, payload: string, ctx: SettleContext) => Promise<void>;

export class CallbackRegistry {
  private readonly handlers = new Map<string, CallbackHandler>();
  private readonly onSettle = new Map<string, SettleHandler>();

  constructor(private readonly logger: Logger) {}

  register(code: string, handler: CallbackHandler) {
    this.claim(code);
    this.handlers.set(code, handler);
  }

  /** A handler run in the card payment's booking transaction (its error rolls the booking back). */
  registerOnSettle(code: string, handler: SettleHandler) {
    this.claim(code);
    this.onSettle.set(code, handler);
  }

  has(code: string) {
    return this.handlers.has(code) || this.onSettle.has(code);
  }

  private claim(code: string) {
    if (!/^[A-Z0-9]{2,4}$/.test(code)) throw new Error(`route code "${code}" must be 2 to 4 capitals or digits`);
    if (this.has(code)) throw new Error(`route code ${code} is already registered`);
  }

  /**
   * Runs the after-commit handler for `code`. No code, or one whose work is done in the booking's transaction:
   * nothing to do. Unknown code: logged as an error, nothing else.
   */
  async run(code: string | null | undefined, payload: string, ctx: CallbackContext = {}): Promise<boolean> {
    if (!code || this.onSettle.has(code)) return false;
    const handler = this.handlers.get(code);
    if (!handler) {
      this.logger.error({ routeCode: code, payload }, "Invalid route_code: no callback registered");
      return false;
    }
    await handler(payload, ctx);
    return true;
  }

  /** Runs the in-transaction handler for `code`, if it has one. */
  async runOnSettle(client: TxClient, code: string | null, payload: string, ctx: SettleContext): Promise<boolean> {
    const handler = code ? this.onSettle.get(code) : undefined;
    if (!handler) return false;
    await handler(client, payload, ctx);
    return true;
  }
}
