// Two-factor sign-in for tests. Test staff are enrolled through the real service with a secret of their own,
// which this file remembers (with the demo staff's published demo secret) so the sign-in helpers can answer the
// second step with a real, current code. The server accepts each 30-second step once per user, within ±1 step
// of now; the helpers spend the steps in order and wait for the next step when all three are used, so many
// sign-ins of one user are slower, never refused.
import type { Db } from "../../src/db/client";
import { DEMO_LOGINS, DEMO_TOTP_SECRET } from "../../src/services/demo/seed-demo";
import { enrolWithSecret } from "../../src/services/two-factor/enrolment";
import { createSecretBox } from "../../src/services/two-factor/secret-box";
import { codeForStep, newTotpSecret, PERIOD_SECONDS, stepAt } from "../../src/services/two-factor/totp";

export const TEST_ENCRYPTION_KEY = "test-encryption-key-test-encryption-key-0123";
export const testBox = createSecretBox(TEST_ENCRYPTION_KEY);

interface Known {
  secret: string;
  lastStep: number;
}
const known = new Map<string, Known>();
const keyOf = (identifier: string | number) => String(identifier).trim().toLowerCase();

function remember(identifiers: (string | number)[], secret: string) {
  const entry: Known = { secret, lastStep: Number.NEGATIVE_INFINITY };
  for (const id of identifiers) known.set(keyOf(id), entry);
}
// The demo staff (enrolled by the demo data with the demo secret).
remember(
  DEMO_LOGINS.filter((l) => l.role !== "member").flatMap((l) => [l.email, l.systemNumber]),
  DEMO_TOTP_SECRET,
);

/** Enrols a user with a fresh secret of their own (as if they had scanned the QR code) and remembers it. */
export async function enrolTestUser(db: Db, user: { id: number; email: string; systemNumber: number }) {
  const secret = newTotpSecret();
  await enrolWithSecret(db, testBox, user.id, secret);
  remember([user.email, user.systemNumber], secret);
  return secret;
}

export function knownSecret(identifier: string | number): string | undefined {
  return known.get(keyOf(identifier))?.secret;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A current code for `secret` whose step was not used by these helpers before (`lastStep` tracks it). The previous
 * step is used only in the first half of a step: by the time a loaded machine's server checks the code (a browser
 * page can take seconds), it may have left the ±1 window.
 */
export async function freshCode(entry: Known): Promise<string> {
  for (;;) {
    const nowMs = Date.now();
    const now = stepAt(nowMs);
    const intoStep = (nowMs / 1000) % PERIOD_SECONDS;
    const candidates = [...(intoStep < PERIOD_SECONDS / 2 ? [now - 1] : []), now, now + 1];
    const step = candidates.find((s) => s > entry.lastStep);
    if (step !== undefined) {
      entry.lastStep = step;
      return codeForStep(entry.secret, step);
    }
    await sleep((PERIOD_SECONDS - intoStep) * 1000 + 50);
  }
}

/** The next unused code of a user the tests enrolled (or a demo staff member); null when none is known. */
export async function nextCodeFor(identifier: string | number): Promise<string | null> {
  const entry = known.get(keyOf(identifier));
  return entry ? freshCode(entry) : null;
}
