// Liveness and readiness probes for load balancers and monitoring. No authentication, no personal data.
// Readiness asks the database each time, so it is 503 while the database is away and 200 as soon as the pool
// can open a connection again.
import type pg from "pg";
import { inputRouter } from "../../web/input";

export function healthRoutes(deps: { pool: pg.Pool; draining?: () => boolean }) {
  const r = inputRouter();
  r.get("/healthz", {}, (_req, res) => {
    res.json({ status: "ok" });
  });
  r.get("/readyz", {}, async (req, res) => {
    // Shutting down: finishing the requests in flight, taking no new ones.
    if (deps.draining?.()) return void res.status(503).json({ status: "draining" });
    try {
      await deps.pool.query("SELECT 1");
      res.json({ status: "ready", database: "ok" });
    } catch (err) {
      req.log?.warn({ err }, "readiness check: database unreachable");
      res.status(503).json({ status: "unavailable", database: "unreachable" });
    }
  });
  return r.router;
}
