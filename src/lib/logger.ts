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

/**
 * pino-http options for how a request is logged: its message is the short line in every form; the JSON form
 * keeps the request and response objects beside it, the readable form only the line.
 */
export function requestLogStyle(logger: Logger) {
  return {
    quietReqLogger: prettyLoggers.has(logger),
    customSuccessMessage: (req: IncomingMessage, res: ServerResponse, ms: number) =>
      `${line(req, res)} ${Math.round(ms)} ms`,
    customErrorMessage: (req: IncomingMessage, res: ServerResponse, err: Error) =>
      `${line(req, res)} failed: ${err.message}`,
  };
}
