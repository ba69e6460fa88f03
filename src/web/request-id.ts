// The id a rendered form carries so that submitting it twice books once. Only a string the page itself could
// have rendered is kept; anything else (a missing field, an array) gets a fresh id. `String(undefined)` is the
// word "undefined", which passes the pattern: every GET rendered that word, so every form shared one id.
import { randomUUID } from "node:crypto";

export function formRequestId(raw: unknown): string {
  return typeof raw === "string" && /^[\w-]{8,64}$/.test(raw) ? raw : randomUUID();
}
