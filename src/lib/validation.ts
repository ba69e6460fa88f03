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
