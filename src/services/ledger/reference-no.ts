import { randomFillSync } from "node:crypto";

const ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"; // no 0/O or 1/I to misread

// Random bytes are drawn a few kilobytes at a time: one call per reference was a visible share of a payment's CPU.
const pool = Buffer.alloc(4096);
let used = pool.length;

/** A statement reference like 7QK2-A9ZP-M4CX: three groups of four, as the original's reference numbers. */
export function newReferenceNo(): string {
  if (used + 12 > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  let s = "";
  for (let i = 0; i < 12; i++) {
    // 256 is a multiple of the alphabet's 32 letters, so every letter is equally likely.
    s += ALPHABET[pool[used + i]! % ALPHABET.length];
    if (i === 3 || i === 7) s += "-";
  }
  used += 12;
  return s;
}
