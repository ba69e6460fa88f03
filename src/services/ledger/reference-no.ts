import { randomBytes } from "node:crypto";

const ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"; // no 0/O or 1/I to misread

/** A statement reference like 7QK2-A9ZP-M4CX: three groups of four, as the original's reference numbers. */
export function newReferenceNo(): string {
  const bytes = randomBytes(12);
  let s = "";
  for (let i = 0; i < 12; i++) {
    s += ALPHABET[bytes[i]! % ALPHABET.length];
    if (i === 3 || i === 7) s += "-";
  }
  return s;
}
