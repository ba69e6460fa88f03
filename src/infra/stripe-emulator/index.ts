// A local Stripe for development, demos and tests (PRODUCT decision 10): a stateful HTTP server that speaks the
// part of Stripe's API the gateway uses, sends signed webhooks, and serves a stand-in for Stripe.js. The app
// talks to it through the official SDK, exactly as it talks to Stripe.
import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { type EmulatorKeys, emulatorApp, type Fault } from "./http-api";
import { EmulatorStore } from "./store";
import { WebhookSender } from "./webhook-sender";

export type { Fault } from "./http-api";
export { signatureHeader } from "./webhook-sender";

/** The Stripe API version the emulator answers as; the gateway pins the same one. */
export const EMULATOR_API_VERSION = "2026-10-28.endive";

export interface StripeEmulatorOptions {
  port?: number;
  host?: string;
  /** Where to post events; can also be set later with `sendWebhooksTo`. */
  webhookUrl?: string;
  keys?: Partial<EmulatorKeys & { webhookSecret: string }>;
}

export interface StripeEmulator extends EmulatorKeys {
  url: string;
  host: string;
  port: number;
  webhookSecret: string;
  /** URL of the Stripe.js stand-in, for the pages' script tag. */
  scriptUrl: string;
  store: EmulatorStore;
  webhooks: WebhookSender;
  /** Failures the next server requests suffer, in order. */
  faults: Fault[];
  sendWebhooksTo(url: string | null): void;
  close(): Promise<void>;
}

const token = () => randomBytes(12).toString("hex");

export async function startStripeEmulator(opts: StripeEmulatorOptions = {}): Promise<StripeEmulator> {
  const keys = {
    secretKey: opts.keys?.secretKey ?? `sk_test_emulator_${token()}`,
    publishableKey: opts.keys?.publishableKey ?? `pk_test_emulator_${token()}`,
    webhookSecret: opts.keys?.webhookSecret ?? `whsec_emulator_${token()}`,
  };
  const webhooks = new WebhookSender(EMULATOR_API_VERSION);
  const store = new EmulatorStore((type, object) => webhooks.record(type, object));
  const faults: Fault[] = [];
  const app = emulatorApp(store, keys, faults);
  const host = opts.host ?? "127.0.0.1";
  const server = await new Promise<import("node:http").Server>((resolve, reject) => {
    const s = app.listen(opts.port ?? 0, host, () => resolve(s));
    s.on("error", reject);
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host}:${port}`;
  const emulator: StripeEmulator = {
    ...keys,
    url,
    host,
    port,
    scriptUrl: `${url}/js/v3`,
    store,
    webhooks,
    faults,
    sendWebhooksTo(target) {
      webhooks.endpoint = target ? { url: target, secret: keys.webhookSecret } : null;
    },
    async close() {
      await webhooks.idle();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
    },
  };
  if (opts.webhookUrl) emulator.sendWebhooksTo(opts.webhookUrl);
  return emulator;
}
