// Chooses the card processor at start-up: real Stripe when keys are configured, otherwise the local Stripe
// emulator (decision 10), started here and posting its webhooks to this app. Both go through StripeGateway.
import path from "node:path";
import type { Config } from "../../config";
import { type StripeEmulator, startStripeEmulator } from "../../infra/stripe-emulator";
import { StripeGateway } from "./stripe-gateway";

export interface CardProcessor {
  gateway: StripeGateway;
  emulator: StripeEmulator | null;
  close(): Promise<void>;
}

/** A running emulator as a cluster worker finds it: the primary started it, the workers share it. */
export interface EmulatorAttachment {
  url: string;
  scriptUrl: string;
  secretKey: string;
  publishableKey: string;
  webhookSecret: string;
}

export function emulatorAttachment(e: StripeEmulator): EmulatorAttachment {
  const { url, scriptUrl, secretKey, publishableKey, webhookSecret } = e;
  return { url, scriptUrl, secretKey, publishableKey, webhookSecret };
}

function emulatorGateway(e: EmulatorAttachment) {
  return new StripeGateway({
    secretKey: e.secretKey,
    publishableKey: e.publishableKey,
    webhookSecret: e.webhookSecret,
    apiBase: e.url,
    scriptUrl: e.scriptUrl,
    emulator: true,
  });
}

/**
 * Real Stripe with keys; otherwise the emulator: `attach` to one a cluster's primary runs (one emulator, one
 * state file, for every worker), or start it here.
 */
export async function startCardProcessor(
  config: Config,
  appUrl: string,
  attach?: EmulatorAttachment,
): Promise<CardProcessor> {
  if (config.STRIPE_SECRET_KEY && config.STRIPE_PUBLISHABLE_KEY && config.STRIPE_WEBHOOK_SECRET) {
    const gateway = new StripeGateway({
      secretKey: config.STRIPE_SECRET_KEY,
      publishableKey: config.STRIPE_PUBLISHABLE_KEY,
      webhookSecret: config.STRIPE_WEBHOOK_SECRET,
    });
    return { gateway, emulator: null, close: async () => {} };
  }
  if (attach) return { gateway: emulatorGateway(attach), emulator: null, close: async () => {} };
  const host = config.HOST === "0.0.0.0" ? "127.0.0.1" : config.HOST;
  const emulator = await startStripeEmulator({
    host,
    port: config.STRIPE_EMULATOR_PORT,
    webhookUrl: `${appUrl}/payments/stripe-webhook`,
    stateFile: path.join(config.DATA_DIR, "stripe-emulator.json"),
    timeZone: config.TIME_ZONE,
  });
  return { gateway: emulatorGateway(emulator), emulator, close: () => emulator.close() };
}
