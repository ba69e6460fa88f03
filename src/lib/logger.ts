// Logs are JSON lines (one object per event, for the log collector) except in development, where a person reads
// them in a terminal: there pino-pretty prints one short line per event, and a request is "GET /x 200 12 ms"
// rather than an object with every header.
import type { IncomingMessage, ServerResponse } from "node:http";
import pino from "pino";
import pretty from "pino-pretty";

export type Logger = pino.Logger;

export interface LoggerOptions {
  /** Human-readable lines instead of JSON (development). */
  pretty?: boolean;
  /** Where to write; standard output when unset. */
  destination?: NodeJS.WritableStream;
}

/** Request fields the one-line form leaves out: the line's message already says what they would. */
const PRETTY_HIDES = "pid,hostname,req,res,responseTime,reqId";
const prettyLoggers = new WeakSet<Logger>();

export function createLogger(level: string, opts: LoggerOptions = {}): Logger {
  const options: pino.LoggerOptions = {
    level,
    // Never log secrets that may ride along on requests.
    redact: ["req.headers.cookie", "req.headers.authorization", 'res.headers["set-cookie"]', "*.password"],
  };
  if (!opts.pretty) return opts.destination ? pino(options, opts.destination) : pino(options);
  const stream = pretty({
    // Synchronous, so log lines and the start-up banner (console.log) come out in the order they were written.
    sync: true,
    colorize: !opts.destination && !!process.stdout.isTTY,
    translateTime: "SYS:HH:MM:ss",
    ignore: PRETTY_HIDES,
    ...(opts.destination ? { destination: opts.destination } : {}),
  });
  const logger = pino(options, stream);
  prettyLoggers.add(logger);
  return logger;
}

const line = (req: IncomingMessage, res: ServerResponse) =>
  `${req.method} ${(req as { originalUrl?: string }).originalUrl ?? req.url} ${res.statusCode}`;

/** Request headers a log line keeps: enough to tell who and what; never the cookie or an authorization. */
const LOGGED_REQUEST_HEADERS = ["host", "user-agent", "referer", "x-forwarded-for", "content-type", "content-length"];
/** Response headers a log line keeps (the rest — the long CSP, set-cookie — say nothing about the request). */
const LOGGED_RESPONSE_HEADERS = ["content-type", "content-length", "location"];

function pick(headers: Record<string, unknown> | undefined, names: string[]) {
  const out: Record<string, unknown> = {};
  if (headers) for (const n of names) if (headers[n] !== undefined) out[n] = headers[n];
  return out;
}

interface LoggedRequest {
  id: unknown;
  method: string;
  url: string;
  remoteAddress?: string;
  headers: Record<string, unknown>;
}

/**
 * pino-http options for how a request is logged: its message is the short line in every form; the JSON form
 * keeps the request and response beside it, with the headers that matter. (Every header of both — the CSP alone
 * is 500 bytes — was serialised and run through redaction on each request: a tenth of a page's CPU under load,
 * docs/performance.md.)
 */
export function requestLogStyle(logger: Logger) {
  return {
    quietReqLogger: prettyLoggers.has(logger),
    serializers: {
      req: (r: LoggedRequest) => ({
        id: r.id,
        method: r.method,
        url: r.url,
        remoteAddress: r.remoteAddress,
        headers: pick(r.headers, LOGGED_REQUEST_HEADERS),
      }),
      res: (r: { statusCode: number; headers?: Record<string, unknown> }) => ({
        statusCode: r.statusCode,
        headers: pick(r.headers, LOGGED_RESPONSE_HEADERS),
      }),
    },
    customSuccessMessage: (req: IncomingMessage, res: ServerResponse, ms: number) =>
      `${line(req, res)} ${Math.round(ms)} ms`,
    customErrorMessage: (req: IncomingMessage, res: ServerResponse, err: Error) =>
      `${line(req, res)} failed: ${err.message}`,
  };
}
