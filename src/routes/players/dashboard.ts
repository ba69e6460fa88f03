import { requireLogin } from "../../auth/guards";
import type { Payments } from "../../services/payments/context";
import { memberDashboard } from "../../services/payments/member-summary";
import { inputRouter } from "../../web/input";

export function dashboardRoutes(deps: { payments: Payments }) {
  const r = inputRouter();
  r.get("/", {}, (req, res) => res.redirect(req.user ? "/dashboard" : "/login"));
  r.get("/dashboard", { guard: requireLogin }, async (req, res) => {
    const user = req.user!;
    res.render("players/dashboard", await memberDashboard(deps.payments, user.id, [...user.permissions.orgs.keys()]));
  });
  return r.router;
}
