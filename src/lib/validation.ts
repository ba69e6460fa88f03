// zod → one readable sentence per problem, for forms, JSON bodies and the CLI alike.
import type { z } from "zod";
import { badInput } from "./errors";

export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => i.message).join(" ");
}

/** Parses or throws a BAD_INPUT AppError carrying the messages; never lets zod's own text reach the user. */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const r = schema.safeParse(input);
  if (!r.success) throw badInput(describeIssues(r.error));
  return r.data;
}

/**
 * "YYYY-MM-DD" naming a day that exists. Date.parse alone is not enough: it reads 2026-02-30 as 2 March, which
 * PostgreSQL then refuses.
 */
export function isCalendarDate(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = new Date(Date.UTC(y, mo - 1, d));
  return y >= 1 && t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
}

// C0 controls and DEL, and C1 controls; tab, line feed and carriage return are checked apart (multi-line text).
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
const LINE_BREAKS = /[\t\n\r]/;
// Half of a surrogate pair with no other half: not a character; it would be stored as U+FFFD.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why `text` cannot be stored as free text ("contains a control character"), or null when it can. */
export function controlCharProblem(text: string, multiline = false): string | null {
  if (CONTROL.test(text)) return "contains a control character";
  if (!multiline && LINE_BREAKS.test(text)) return "must be on one line";
  if (LONE_SURROGATE.test(text)) return "contains an invalid character";
  return null;
}
