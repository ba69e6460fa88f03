// Reading downloads in tests: a response body as raw bytes (PDF, XLSX), and today's date where the app counts days.
import type { Response } from "supertest";
import { localTime } from "../../src/services/statements/statement-csv";

/** A supertest parser that keeps the body as a Buffer. */
export const binary = (r: Response, cb: (e: Error | null, b: unknown) => void) => {
  const chunks: Buffer[] = [];
  r.on("data", (c: Buffer) => chunks.push(c));
  r.on("end", () => cb(null, Buffer.concat(chunks)));
};

/** Today's date (YYYY-MM-DD) in `timeZone`. */
export const todayIn = (timeZone: string) => localTime(new Date(), timeZone).slice(0, 10);
