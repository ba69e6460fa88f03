// Everything the statistics page shows for a period and a scope, gathered in parallel, with the charts' numbers
// ready for the page's JSON block (amounts as exact decimal text, e.g. "1234.50", turned into numbers only by the
// chart script for drawing).
import { plainAmount } from "../../lib/money";
import { forReading, type Payments } from "../payments/context";
import { balanceHistogram, weeklySeries } from "./charts";
import { cardFigures, periodFigures } from "./figures";
import type { Period } from "./period";
import type { StatisticsScope } from "./scope";
import { clubStatus, federationStatus } from "./status-summary";

export async function statisticsPage(payments: Payments, period: Period, scope: StatisticsScope) {
  // Only reads: through DATABASE_READ_URL when it is set.
  const p = forReading(payments);
  const club = scope.kind === "club";
  const [status, figures, cards, weeks, bins] = await Promise.all([
    club ? clubStatus(p, scope.organisationId) : federationStatus(p),
    periodFigures(p, period, scope),
    club ? null : cardFigures(p, period),
    weeklySeries(p, period, scope),
    balanceHistogram(p, scope),
  ]);
  const last = weeks[weeks.length - 1];
  const charts = {
    held: {
      labels: weeks.map((w) => w.week),
      series: [
        ...(club ? [] : [{ label: "Members", values: weeks.map((w) => plainAmount(w.membersHeldCents)) }]),
        { label: club ? "Club" : "Clubs", values: weeks.map((w) => plainAmount(w.clubsHeldCents)) },
      ],
    },
    flows: {
      labels: weeks.map((w) => w.week),
      series: [
        { label: "Top-ups", values: weeks.map((w) => plainAmount(w.topUpCents)) },
        { label: "Payments", values: weeks.map((w) => plainAmount(w.paymentCents)) },
      ],
    },
    balances: {
      labels: bins.map((b) => b.label),
      series: [{ label: "Members", values: bins.map((b) => (b.members === null ? null : String(b.members))) }],
    },
  };
  return {
    club,
    status,
    figures,
    cards,
    weeks,
    bins,
    heldAtEnd: { membersCents: last?.membersHeldCents ?? 0n, clubsCents: last?.clubsHeldCents ?? 0n },
    charts,
  };
}
