// The statistics page's queries on a ledger of BENCH_STATS_ENTRIES entries (default 1,000,000: ten members with
// alternating top-ups and club payments, each booked against a system account), federation-wide, for the 4 and
// 52-week periods. Prints the time of each part and of the whole page (its parts run in parallel).

import { connectDatabase } from "../src/db/client";
import { migrateDeploy } from "../src/db/migrate";
import { balanceHistogram, weeklySeries } from "../src/services/statistics/charts";
import { cardFigures, periodFigures } from "../src/services/statistics/figures";
import { resolvePeriod } from "../src/services/statistics/period";
import { statisticsPage } from "../src/services/statistics/statistics-page";
import { federationStatus } from "../src/services/statistics/status-summary";
import { benchDatabase } from "./bench/bench-database";
import { benchPayments } from "./bench/bench-payments-core";
import { memberWithEntries } from "./bench/member-with-entries";

const ENTRIES = Number(process.env.BENCH_STATS_ENTRIES ?? 1_000_000);

async function ms(fn: () => Promise<unknown>) {
  const t = process.hrtime.bigint();
  await fn();
  return Math.round(Number(process.hrtime.bigint() - t) / 1e6);
}

async function main() {
  const bench = await benchDatabase();
  try {
    await migrateDeploy(bench.url);
    const db = connectDatabase(bench.url, { max: 8 });
    const p = benchPayments(db);
    // Each member line has its system-account twin: ENTRIES / 20 lines for each of ten members.
    for (let i = 0; i < 10; i++) await memberWithEntries(db, `stats${i}`, Math.ceil(ENTRIES / 20));
    await db.pool.query("ANALYZE");
    const scope = { kind: "federation" } as const;
    for (const preset of ["4w", "52w"] as const) {
      const period = resolvePeriod({ period: preset }, p.timeZone);
      const parts = {
        weekly: await ms(() => weeklySeries(p, period, scope)),
        figures: await ms(() => periodFigures(p, period, scope)),
        cards: await ms(() => cardFigures(p, period)),
        histogram: await ms(() => balanceHistogram(p, scope)),
        status: await ms(() => federationStatus(p)),
      };
      const page = [await ms(() => statisticsPage(p, period, scope)), await ms(() => statisticsPage(p, period, scope))];
      console.log(`${preset}: page ${page.join(" / ")} ms; parts ${JSON.stringify(parts)} (ms)`);
    }
    await db.pool.end();
  } finally {
    await bench.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
