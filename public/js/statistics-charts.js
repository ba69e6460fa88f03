// Draws the statistics page's charts from its JSON block (served as a file of ours: the Content-Security-Policy
// allows no inline script). Each canvas names its chart (data-chart) and kind (data-kind); the same numbers are
// in the table below it. Amounts arrive as exact decimal text and become numbers only for drawing.
(() => {
  const block = document.getElementById("chart-data");
  if (!block || typeof Chart === "undefined") return;
  const data = JSON.parse(block.textContent);
  const colours = ["#0d6efd", "#198754", "#fd7e14"];
  for (const canvas of document.querySelectorAll("canvas[data-chart]")) {
    const chart = data[canvas.dataset.chart];
    if (!chart) continue;
    new Chart(canvas, {
      type: canvas.dataset.kind === "line" ? "line" : "bar",
      data: {
        labels: chart.labels,
        datasets: chart.series.map((s, i) => ({
          label: s.label,
          // null: a bin held back on a club's page (no bar, not a zero).
          data: s.values.map((v) => (v === null ? null : Number(v))),
          borderColor: colours[i % colours.length],
          backgroundColor: colours[i % colours.length],
          tension: 0.2,
        })),
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        // The histogram counts members: whole numbers on its axis.
        scales: { y: { beginAtZero: true, ticks: { precision: canvas.dataset.chart === "balances" ? 0 : undefined } } },
      },
    });
  }
})();
