// Things the payments core reports for others to act on (e-mails, in-app messages). Emitted after the ledger
// change they describe has committed.
import { EventEmitter } from "node:events";

export interface PaymentEventMap {
  lowBalance: { userId: number; balanceCents: bigint };
  memberTransfer: { fromUserId: number; toUserId: number; amountCents: bigint; description: string };
  orgTransfer: {
    organisationId: number;
    toUserId: number;
    amountCents: bigint;
    description: string;
    actorUserId: number;
  };
  cardPaymentSucceeded: { userId: number; cardPaymentId: number; amountCents: bigint };
  cardRefunded: {
    userId: number;
    refundId: number;
    cardAmountCents: bigint;
    byAdminUserId: number | null;
    description: string;
  };
  autoTopUpSucceeded: { userId: number; amountCents: bigint; cardLabel: string };
  autoTopUpFailed: { userId: number; amountCents: bigint; message: string };
  autoTopUpNeedsAuthentication: { userId: number; amountCents: bigint; message: string; cardPaymentId: number };
}

export type PaymentEventName = keyof PaymentEventMap;

export class PaymentEvents {
  private readonly emitter = new EventEmitter();

  emit<K extends PaymentEventName>(name: K, payload: PaymentEventMap[K]) {
    this.emitter.emit(name, payload);
  }

  on<K extends PaymentEventName>(name: K, listener: (payload: PaymentEventMap[K]) => void) {
    this.emitter.on(name, listener);
    return () => this.emitter.off(name, listener);
  }
}
