// TOTP (RFC 6238) through otpauth: SHA-1, 6 digits, 30-second steps, as every authenticator app expects.
// A code is accepted for the current step and one either side (clock drift); which step it matched is returned
// so the caller can refuse a code of a step already used.
import { Secret, TOTP } from "otpauth";

export const PERIOD_SECONDS = 30;
const ISSUER = "Bridge Credits";

const totp = (secretBase32: string, label = "") =>
  new TOTP({ issuer: ISSUER, label, secret: Secret.fromBase32(secretBase32), digits: 6, period: PERIOD_SECONDS });

/** A new random secret (160 bits, as RFC 4226 recommends), base32 as authenticator apps take it. */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

export function otpauthUri(secretBase32: string, accountLabel: string): string {
  return totp(secretBase32, accountLabel).toString();
}

export function stepAt(timeMs: number): number {
  return Math.floor(timeMs / 1000 / PERIOD_SECONDS);
}

export function codeForStep(secretBase32: string, step: number): string {
  return totp(secretBase32).generate({ timestamp: step * PERIOD_SECONDS * 1000 });
}

/** The step (current ±1) whose code `token` is, or null. */
export function matchingStep(secretBase32: string, token: string, nowMs: number): number | null {
  if (!/^\d{6}$/.test(token)) return null;
  const delta = totp(secretBase32).validate({ token, timestamp: nowMs, window: 1 });
  return delta === null ? null : stepAt(nowMs) + delta;
}
