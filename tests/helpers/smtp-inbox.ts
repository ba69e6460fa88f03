// A real SMTP server (smtp-server) on an ephemeral port that keeps every message it receives, and a MIME reader
// for what arrives: headers (RFC 2047 encoded words), multipart bodies, quoted-printable and base64, UTF-8.
// mailparser is not installed; this reads what nodemailer writes, and fails loudly on anything else.
import type { AddressInfo } from "node:net";
import nodemailer from "nodemailer";
import { SMTPServer } from "smtp-server";

export interface ReceivedMail {
  raw: string;
  headers: Map<string, string>;
  subject: string;
  to: string;
  /** Decoded text/plain and text/html parts (the first of each). */
  text: string;
  html: string;
  /** Content types of every leaf part, e.g. ["text/plain", "text/html"]. */
  types: string[];
}

export async function startSmtpInbox() {
  const received: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, _session, done) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        try {
          received.push(parseMail(Buffer.concat(chunks).toString("latin1")));
          done();
        } catch (err) {
          done(err as Error);
        }
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    received,
    port,
    /** A real nodemailer SMTP transport pointed at this server, as server.ts builds one from SMTP_URL. */
    transport: nodemailer.createTransport(`smtp://127.0.0.1:${port}`),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Splits raw (latin1, i.e. byte-for-byte) message text into unfolded headers and the body. */
function splitEntity(raw: string) {
  const at = raw.indexOf("\r\n\r\n");
  if (at < 0) throw new Error("message has no header/body separator");
  const headers = new Map<string, string>();
  for (const line of raw
    .slice(0, at)
    .replace(/\r\n[ \t]+/g, " ")
    .split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body: raw.slice(at + 4) };
}

const bytes = (latin1: string) => Buffer.from(latin1, "latin1");

function decodeQuotedPrintable(s: string): Buffer {
  const soft = s.replace(/=\r?\n/g, "");
  const out: number[] = [];
  for (let i = 0; i < soft.length; i++) {
    const c = soft[i]!;
    if (c === "=" && /^[0-9A-F]{2}$/i.test(soft.slice(i + 1, i + 3))) {
      out.push(Number.parseInt(soft.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      out.push(c.charCodeAt(0));
    }
  }
  return Buffer.from(out);
}

function decodeBody(body: string, encoding: string | undefined): Buffer {
  switch ((encoding ?? "7bit").toLowerCase()) {
    case "quoted-printable":
      return decodeQuotedPrintable(body);
    case "base64":
      return Buffer.from(body.replace(/\s+/g, ""), "base64");
    case "7bit":
    case "8bit":
      return bytes(body);
    default:
      throw new Error(`unexpected transfer encoding ${encoding}`);
  }
}

/** RFC 2047: "=?UTF-8?Q?Zo=C3=AB?=" and "=?UTF-8?B?...?=" words; whitespace between two encoded words goes. */
export function decodeWords(value: string): string {
  return value
    .replace(/(\?=)\s+(=\?)/g, "$1$2")
    .replace(/=\?([^?]+)\?([QB])\?([^?]*)\?=/gi, (_m, charset: string, enc: string, data: string) => {
      if (!/^utf-8$/i.test(charset)) throw new Error(`unexpected charset ${charset}`);
      const buf =
        enc.toUpperCase() === "B" ? Buffer.from(data, "base64") : decodeQuotedPrintable(data.replace(/_/g, " "));
      return buf.toString("utf8");
    });
}

function param(header: string | undefined, name: string) {
  const m = new RegExp(`;\\s*${name}="?([^";]+)"?`, "i").exec(header ?? "");
  return m?.[1];
}

function leaves(raw: string): { type: string; text: string }[] {
  const { headers, body } = splitEntity(raw);
  const ct = headers.get("content-type") ?? "text/plain; charset=us-ascii";
  const type = ct.split(";")[0]!.trim().toLowerCase();
  if (type.startsWith("multipart/")) {
    const boundary = param(ct, "boundary");
    if (!boundary) throw new Error("multipart without boundary");
    const parts = body.split(`--${boundary}`);
    // parts[0] is the preamble; the last starts with "--" (the closing delimiter).
    return parts
      .slice(1)
      .filter((p) => !p.startsWith("--"))
      .flatMap((p) => leaves(p.replace(/^\r\n/, "").replace(/\r\n$/, "")));
  }
  const charset = (param(ct, "charset") ?? "us-ascii").toLowerCase();
  const decoded = decodeBody(body, headers.get("content-transfer-encoding"));
  if (!["utf-8", "us-ascii"].includes(charset)) throw new Error(`unexpected charset ${charset}`);
  // Line ends travel as CRLF; the text is compared with LF.
  return [{ type, text: decoded.toString("utf8").replace(/\r\n/g, "\n") }];
}

export function parseMail(raw: string): ReceivedMail {
  const { headers } = splitEntity(raw);
  const parts = leaves(raw);
  return {
    raw,
    headers,
    subject: decodeWords(headers.get("subject") ?? ""),
    to: headers.get("to") ?? "",
    text: parts.find((p) => p.type === "text/plain")?.text ?? "",
    html: parts.find((p) => p.type === "text/html")?.text ?? "",
    types: parts.map((p) => p.type),
  };
}

/** The words a reader sees in an HTML fragment: tags gone, the few entities nunjucks writes decoded. */
export function visibleText(html: string) {
  return html
    .replace(/<[^>]*>/g, " ")
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&")
    .replace(/\s+/g, " ")
    .trim();
}
