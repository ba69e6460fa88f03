// Each member has one Stripe customer, created the first time they pay or save a card and kept on the user.
// The idempotency key is derived from the user (and the customer it replaces), so a retry after a lost answer
// finds the same customer rather than making a second one.
import type { Payments } from "../payments/context";

export async function ensureStripeCustomer(p: Payments, userId: number): Promise<string> {
  const user = await p.db.user.findUniqueOrThrow({ where: { id: userId } });
  if (user.stripeCustomerId && (await p.gateway.customerExists(user.stripeCustomerId))) return user.stripeCustomerId;
  const customerId = await p.gateway.createCustomer({
    name: `${user.firstName} ${user.lastName}`,
    email: user.email,
    userId,
    idempotencyKey: user.stripeCustomerId
      ? `customer:${userId}:replaces:${user.stripeCustomerId}`
      : `customer:${userId}`,
  });
  await p.db.user.update({ where: { id: userId }, data: { stripeCustomerId: customerId } });
  return customerId;
}
