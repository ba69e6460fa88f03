// Nunjucks, with autoescaping on: templates never see raw user input as HTML.
import path from "node:path";
import type { Express } from "express";
import nunjucks from "nunjucks";
import { dateTimeFormat } from "../lib/intl-cache";
import { formatMoney, formatPercent } from "../lib/money";
import { projectRoot } from "../lib/paths";

export function setupViews(app: Express, opts: { watch: boolean; timeZone: string }) {
  const env = nunjucks.configure(path.join(projectRoot, "views"), {
    autoescape: true,
    express: app,
    noCache: opts.watch,
    throwOnUndefined: false,
  });
  env.addGlobal("timeZone", opts.timeZone);
  // One formatter for every date shown (building one per date made pages slow and RSS climb: lib/intl-cache.ts).
  const datetime = dateTimeFormat("en-AU", { timeZone: opts.timeZone, dateStyle: "medium", timeStyle: "short" });
  env.addFilter("datetime", (d: Date | string | null | undefined) => (d ? datetime.format(new Date(d)) : ""));
  env.addFilter("money", (cents: bigint | number | null | undefined) => (cents == null ? "" : formatMoney(cents)));
  // A calendar date (a DATE column arrives as midnight UTC): shown as that date, whatever the zone.
  env.addFilter("date", (d: Date | null | undefined) => (d ? new Date(d).toISOString().slice(0, 10) : ""));
  env.addFilter("percent", (ppm: number | null | undefined) => (ppm == null ? "" : `${formatPercent(ppm)}%`));
  // Banks print BSBs as 062-000; we store the six digits.
  env.addFilter("bsb", (v: string | null | undefined) => (v ? `${v.slice(0, 3)}-${v.slice(3)}` : "NOT SET"));
  // A settlement batch's (or line's) status in words.
  const statusWords: Record<string, string> = {
    CREATED: "Created",
    DOWNLOADED: "File downloaded",
    SUBMITTED: "Submitted to the bank",
    PAID: "Paid",
    RETURNED: "Returned by the bank",
  };
  env.addFilter("settlementStatus", (s: string) => statusWords[s] ?? s);
  app.set("view engine", "njk");
  return env;
}
