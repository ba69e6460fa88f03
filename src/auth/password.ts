import { hash, verify } from "@node-rs/argon2";

// argon2id with the library's defaults (19 MiB, 2 passes): OWASP's recommended minimum.
export function hashPassword(plain: string): Promise<string> {
  return hash(plain);
}

export async function verifyPassword(hashed: string, plain: string): Promise<boolean> {
  try {
    return await verify(hashed, plain);
  } catch {
    return false; // a malformed stored hash never signs anyone in
  }
}

// Verifying against this when no user matches keeps a failed sign-in as slow as a wrong password, so response
// times do not reveal which e-mails or ABF numbers exist.
let dummy: Promise<string> | null = null;
export async function burnPasswordCheck(plain: string): Promise<void> {
  dummy ??= hashPassword("no-such-user-placeholder");
  await verifyPassword(await dummy, plain);
}

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 200;
