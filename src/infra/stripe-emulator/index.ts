// A local Stripe for development, demos and tests (PRODUCT decision 10): a stateful HTTP server that speaks the
// part of Stripe's API the gateway uses, sends signed webhooks, and serves a stand-in for Stripe.js. The app
// talks to it through the official SDK, exactly as it talks to Stripe.
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import type { AddressInfo } from "node:net";
import path from "node:path";
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
  /** Keeps the emulator's objects (customers, saved cards…) and keys in this file across restarts. */
  stateFile?: string;
  /** The account's business name on receipts ("Bridge Credits" when not given). */
  businessName?: string;
  /** The account's time zone, for dates on receipts (Australia/Sydney when not given). */
  timeZone?: string;
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
  const saved = opts.stateFile ? readState(opts.stateFile) : null;
  const keys = {
    secretKey: opts.keys?.secretKey ?? saved?.keys.secretKey ?? `sk_test_emulator_${token()}`,
    publishableKey: opts.keys?.publishableKey ?? saved?.keys.publishableKey ?? `pk_test_emulator_${token()}`,
    webhookSecret: opts.keys?.webhookSecret ?? saved?.keys.webhookSecret ?? `whsec_emulator_${token()}`,
  };
  const webhooks = new WebhookSender(EMULATOR_API_VERSION);
  const store = new EmulatorStore((type, object) => webhooks.record(type, object));
  if (saved) store.restore(saved.store);
  const faults: Fault[] = [];
  let timer: NodeJS.Timeout | null = null;
  const save = () => {
    timer = null;
    if (opts.stateFile) writeState(opts.stateFile, { keys, store: store.snapshot() });
  };
  const receipts = {
    businessName: opts.businessName ?? "Bridge Credits",
    timeZone: opts.timeZone ?? "Australia/Sydney",
  };
  const app = emulatorApp(
    store,
    keys,
    faults,
    () => {
      if (opts.stateFile && !timer) timer = setTimeout(save, 200);
    },
    receipts,
  );
  const host = opts.host ?? "127.0.0.1";
  const server = await new Promise<import("node:http").Server>((resolve, reject) => {
    const s = app.listen(opts.port ?? 0, host, () => resolve(s));
    s.on("error", reject);
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host}:${port}`;
  store.receiptBase = url;
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
      if (timer) {
        clearTimeout(timer);
        save();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
    },
  };
  if (opts.webhookUrl) emulator.sendWebhooksTo(opts.webhookUrl);
  return emulator;
}

interface SavedState {
  keys: EmulatorKeys & { webhookSecret: string };
  store: ReturnType<EmulatorStore["snapshot"]>;
}

function readState(file: string): SavedState | null {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as SavedState;
  } catch {
    return null; // first start, or an unreadable file: begin afresh
  }
}

function writeState(file: string, state: SavedState) {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(state), { mode: 0o600 });
    fs.renameSync(tmp, file);
  } catch (e) {
    // A demo convenience only: without the file the emulator simply forgets on restart.
    console.warn(`Stripe emulator: could not save its state to ${file}: ${(e as Error).message}`);
  }
}
