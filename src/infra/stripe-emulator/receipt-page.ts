// The receipt Stripe hosts for every charge (its `receipt_url`), served by the emulator at its own address: who
// was paid, how much, with which card, when, and for what — and what has been refunded since.
import type { Request, Response } from "express";
import { plainAmount } from "../../lib/money";
import type { EmulatorStore } from "./store";

export interface ReceiptOptions {
  /** The account's business name, as Stripe prints it at the top of the receipt. */
  businessName: string;
  /** The account's time zone, for the date paid. */
  timeZone: string;
}

const html = (v: unknown) =>
  String(v ?? "").replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );

const money = (cents: number, currency: string) => `$${plainAmount(cents)} ${currency.toUpperCase()}`;

const BRANDS: Record<string, string> = { visa: "Visa", mastercard: "Mastercard", amex: "American Express" };

export function receiptPage(store: EmulatorStore, opts: ReceiptOptions) {
  return (req: Request, res: Response) => {
    const ch = store.objects.get(String(req.params.id));
    if (ch?.object !== "charge" || ch.status !== "succeeded") {
      res.status(404).type("html").send("<!doctype html><title>Receipt not found</title><h1>Receipt not found</h1>");
      return;
    }
    const card = ((ch.payment_method_details as { card?: Record<string, unknown> } | undefined)?.card ?? {}) as {
      brand?: string;
      last4?: string;
    };
    const currency = String(ch.currency);
    const paidAt = new Intl.DateTimeFormat("en-AU", { dateStyle: "long", timeZone: opts.timeZone }).format(
      new Date((ch.created as number) * 1000),
    );
    const refunded = ch.amount_refunded as number;
    const rows: [string, string][] = [
      ["Amount paid", money(ch.amount as number, currency)],
      ["Date paid", paidAt],
      ["Payment method", `${BRANDS[card.brand ?? ""] ?? card.brand ?? "Card"} – ${card.last4 ?? "????"}`],
      ["Description", String(ch.description ?? "")],
      ...(refunded > 0 ? [["Refunded", money(refunded, currency)] as [string, string]] : []),
    ];
    const name = html(opts.businessName);
    res.type("html").send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Your receipt from ${name}</title></head>
<body style="font-family: sans-serif; max-width: 32rem; margin: 2rem auto">
<h1 id="merchant">${name}</h1>
<p>Receipt for charge <span id="charge">${html(ch.id)}</span></p>
<dl>${rows.map(([k, v]) => `<dt>${html(k)}</dt><dd>${html(v)}</dd>`).join("")}</dl>
<p><small>Served by the local Stripe emulator.</small></p>
</body></html>`);
  };
}
