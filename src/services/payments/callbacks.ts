// The callback router: when a payment made for another module completes, that module is told through the
// route code it gave (the original's EVT, EV2, M2M, UPP, CAU…). Modules register their handlers here; payments
// registers its own M2M and UPP.
import type { Logger } from "../../lib/logger";

export interface CallbackContext {
  /** The card payment that funded the purchase, when it went through the card checkout. */
  cardPaymentId?: number | null;
}

export type CallbackHandler = (payload: string, ctx: CallbackContext) => Promise<void>;

export class CallbackRegistry {
  private readonly handlers = new Map<string, CallbackHandler>();

  constructor(private readonly logger: Logger) {}

  register(code: string, handler: CallbackHandler) {
    if (!/^[A-Z0-9]{2,4}$/.test(code)) throw new Error(`route code "${code}" must be 2 to 4 capitals or digits`);
    if (this.handlers.has(code)) throw new Error(`route code ${code} is already registered`);
    this.handlers.set(code, handler);
  }

  has(code: string) {
    return this.handlers.has(code);
  }

  /** Runs the handler for `code`. No code: nothing to do. Unknown code: logged as an error, nothing else. */
  async run(code: string | null | undefined, payload: string, ctx: CallbackContext = {}): Promise<boolean> {
    if (!code) return false;
    const handler = this.handlers.get(code);
    if (!handler) {
      this.logger.error({ routeCode: code, payload }, "Invalid route_code: no callback registered");
      return false;
    }
    await handler(payload, ctx);
    return true;
  }
}
