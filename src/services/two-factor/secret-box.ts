// Encryption of authenticator secrets at rest (AES-256-GCM) and keyed hashing of recovery codes, both with keys
// derived (HKDF-SHA256) from APP_ENCRYPTION_KEY, so a copy of the database without the key can neither mint
// codes nor test guesses at recovery codes offline. The user id is bound in as associated data: a ciphertext
// copied onto another user's row does not decrypt.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from "node:crypto";

const VERSION = "v1";

export interface SecretBox {
  encrypt(userId: number, plain: string): string;
  decrypt(userId: number, sealed: string): string;
  /** A keyed hash of a recovery code (already normalised), per user. */
  hashRecoveryCode(userId: number, code: string): string;
}

const derive = (key: string, info: string) =>
  Buffer.from(hkdfSync("sha256", Buffer.from(key, "utf8"), Buffer.alloc(0), info, 32));

export function createSecretBox(appEncryptionKey: string): SecretBox {
  if (appEncryptionKey.length < 32) throw new Error("APP_ENCRYPTION_KEY must be at least 32 characters");
  const aesKey = derive(appEncryptionKey, "bridge-credits totp secret");
  const hmacKey = derive(appEncryptionKey, "bridge-credits recovery code");
  const aad = (userId: number) => Buffer.from(`user:${userId}`);
  return {
    encrypt(userId, plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", aesKey, iv);
      cipher.setAAD(aad(userId));
      const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
      return `${VERSION}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64")}`;
    },
    decrypt(userId, sealed) {
      const [version, data] = sealed.split(":");
      if (version !== VERSION || !data) throw new Error("unknown secret format");
      const raw = Buffer.from(data, "base64");
      const decipher = createDecipheriv("aes-256-gcm", aesKey, raw.subarray(0, 12));
      decipher.setAAD(aad(userId));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
    },
    hashRecoveryCode(userId, code) {
      return createHmac("sha256", hmacKey).update(`${userId}:${code}`).digest("hex");
    },
  };
}
