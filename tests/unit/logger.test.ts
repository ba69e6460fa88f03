// Request logging (issue 15, item 17): in development one short readable line per request (method, path,
// status, time) and no headers; in production a JSON line per request, with the request and response beside it.
import { Writable } from "node:stream";
import express from "express";
import { pinoHttp } from "pino-http";
import request from "supertest";
import { createLogger, requestLogStyle } from "../../src/lib/logger";

function capture() {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream, lines: () => chunks.join("").split("\n").filter(Boolean) };
}

async function logOneRequest(pretty: boolean) {
  const out = capture();
  const logger = createLogger("info", { pretty, destination: out.stream });
  const app = express();
  app.use(pinoHttp({ logger, ...requestLogStyle(logger) }));
  app.get("/dashboard", (_req, res) => void res.send("ok"));
  await request(app).get("/dashboard?tab=recent").set("User-Agent", "a-long-browser-user-agent/1.0");
  return out.lines();
}

test("development: one short line per request, no headers", async () => {
  const lines = await logOneRequest(true);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\] INFO: GET \/dashboard\?tab=recent 200 \d+ ms$/);
});

test("production: a JSON line per request that keeps the request and response", async () => {
  const lines = await logOneRequest(false);
  expect(lines).toHaveLength(1);
  const entry = JSON.parse(lines[0]!);
  expect(entry.msg).toMatch(/^GET \/dashboard\?tab=recent 200 \d+ ms$/);
  expect(entry.req.headers["user-agent"]).toBe("a-long-browser-user-agent/1.0");
  expect(entry.res.statusCode).toBe(200);
});

test("production: the line keeps the headers that tell who and what, not the cookie or the long CSP", async () => {
  const out = capture();
  const logger = createLogger("info", { destination: out.stream });
  const app = express();
  app.use(pinoHttp({ logger, ...requestLogStyle(logger) }));
  app.get("/dashboard", (_req, res) => {
    res.setHeader("Content-Security-Policy", `default-src 'self';${" script-src 'self';".repeat(30)}`);
    res.setHeader("Set-Cookie", "bc.sid=secret");
    res.type("html").send("ok");
  });
  await request(app)
    .get("/dashboard")
    .set("User-Agent", "browser/1.0")
    .set("Cookie", "bc.sid=the-session")
    .set("Accept-Language", "en-AU");
  const entry = JSON.parse(out.lines()[0]!);
  expect(entry.req).toEqual({
    id: expect.anything(),
    method: "GET",
    url: "/dashboard",
    remoteAddress: expect.any(String),
    headers: { host: expect.any(String), "user-agent": "browser/1.0" },
  });
  expect(entry.res).toEqual({
    statusCode: 200,
    headers: { "content-type": "text/html; charset=utf-8", "content-length": "2" },
  });
  expect(out.lines()[0]).not.toContain("the-session");
});
