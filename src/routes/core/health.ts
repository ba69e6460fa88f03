// Liveness and readiness probes for load balancers and monitoring. No authentication, no personal data.
import { Router } from "express";
import type pg from "pg";

export function healthRoutes(deps: { pool: pg.Pool }) {
  const r = Router();
  r.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  r.get("/readyz", async (req, res) => {
    try {
      await deps.pool.query("SELECT 1");
      res.json({ status: "ready", database: "ok" });
    } catch (err) {
      req.log?.warn({ err }, "readiness check: database unreachable");
      res.status(503).json({ status: "unavailable", database: "unreachable" });
    }
  });
  return r;
}
