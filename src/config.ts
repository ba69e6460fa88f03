// Configuration is read once, at start-up, from the environment, and validated here so that a mistake stops the
// app with a message naming the variable rather than failing later in some request.
import { z } from "zod";

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"], { message: "must be true or false" })
  .transform((v) => v === "true" || v === "1" || v === "yes");

function isTimeZone(tz: string) {
  try {
    new Intl.DateTimeFormat("en-AU", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const schema = z
  .object({
    NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, "must be a postgresql:// connection URL")
      .optional(),
    /** Optional read-only copy (a streaming replica, or a SELECT-only role): read-only pages and exports use it. */
    DATABASE_READ_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, "must be a postgresql:// connection URL")
      .optional(),
    /** Worker processes behind the one port (node:cluster); 1 runs the app in this process, with no primary. */
    WEB_CONCURRENCY: z.coerce
      .number({ message: "must be a whole number" })
      .int("must be a whole number")
      .min(1, "must be between 1 and 64")
      .max(64, "must be between 1 and 64")
      .default(1),
    PORT: z.coerce
      .number({ message: "must be a whole number" })
      .int("must be a whole number")
      .min(1, "must be between 1 and 65535")
      .max(65535, "must be between 1 and 65535")
      .default(3000),
    HOST: z.string().min(1).default("127.0.0.1"),
    SESSION_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
    /** Encrypts two-factor secrets at rest (and keys the recovery codes' hashes); keep it with your backups. */
    APP_ENCRYPTION_KEY: z.string().min(32, "must be at least 32 characters").optional(),
    TIME_ZONE: z.string().refine(isTimeZone, "is not a known IANA time zone").default("Australia/Sydney"),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    TRUST_PROXY: bool.default(false),
    DATA_DIR: z.string().min(1).default(".data"),
    /** Unset: demo data in development and tests, never in production (its logins share a published password). */
    DEMO_DATA: bool.optional(),
    /** Apply migrations at start-up; false where a deploy runs them once beforehand (compose's migrate service). */
    MIGRATE_ON_START: bool.default(true),
    STRIPE_SECRET_KEY: z
      .string()
      .regex(/^(sk|rk)_(test|live)_\w+$/, "must be a Stripe secret key (sk_test_…)")
      .optional(),
    STRIPE_PUBLISHABLE_KEY: z
      .string()
      .regex(/^pk_(test|live)_\w+$/, "must be a Stripe publishable key (pk_…)")
      .optional(),
    STRIPE_WEBHOOK_SECRET: z
      .string()
      .regex(/^whsec_\w+$/, "must be a webhook signing secret (whsec_…)")
      .optional(),
    /** Port of the local Stripe emulator, started when no Stripe keys are configured. */
    STRIPE_EMULATOR_PORT: z.coerce.number().int().min(0).max(65535).default(12111),
    /** smtp://user:pass@host:587 or smtps://…; unset: e-mails stay in the app (messages page, mail log). */
    SMTP_URL: z
      .string()
      .regex(/^smtps?:\/\//, "must be an smtp:// or smtps:// URL")
      .optional(),
    MAIL_FROM: z.string().min(3).default("Bridge Credits <payments@bridgecredits.invalid>"),
    /** The federation's name, at the head and foot of every e-mail and in its sentences. */
    FEDERATION_NAME: z.string().trim().min(2).max(100).default("Australian Bridge Federation"),
    /** Base URL of the site, for links in e-mails; http://localhost:PORT when unset. */
    PUBLIC_URL: z.string().url("must be a URL such as https://payments.example.org").optional(),
    /** Outbound webhooks may go to private, loopback and link-local addresses (tests, a local demo receiver). */
    WEBHOOK_ALLOW_PRIVATE: bool.default(false),
    /** Run the outbound webhook worker (dispatcher and deliveries) in this process. */
    WEBHOOK_WORKER: bool.default(true),
    /** Deadline of one webhook delivery attempt. */
    WEBHOOK_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(60).default(10),
    /** Payments API: calls per minute per key before 429. */
    API_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(600),
    /** Payments API: how long an unfinished request holds its Idempotency-Key (extended while it runs). */
    API_IDEMPOTENCY_LEASE_SECONDS: z.coerce.number().min(0.1).max(3600).default(60),
    /** Payments API: hours after which a when_insufficient "checkout" charge still unpaid expires. */
    API_CHECKOUT_EXPIRY_HOURS: z.coerce.number().min(0.01).max(720).default(24),
    /** Payments API: shared transactions of POST /charges in flight at once (each holds its own connection). */
    API_CHARGE_GROUP_CONNECTIONS: z.coerce.number().int().min(1).max(32).default(2),
    /** Connections in the app's PostgreSQL pool (the ledger engine and POST /charges groups open their own). */
    DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
    LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).max(1000).default(5),
    LOGIN_WINDOW_MINUTES: z.coerce
      .number()
      .int()
      .min(1)
      .max(24 * 60)
      .default(15),
    /** On SIGTERM/SIGINT, how long requests in flight may take to finish before their connections are cut. */
    SHUTDOWN_TIMEOUT_SECONDS: z.coerce
      .number({ message: "must be a whole number" })
      .int("must be a whole number")
      .min(1, "must be between 1 and 600")
      .max(600, "must be between 1 and 600")
      .default(20),
  })
  .superRefine((c, ctx) => {
    for (const name of ["SESSION_SECRET", "APP_ENCRYPTION_KEY"] as const) {
      if (c.NODE_ENV === "production" && !c[name]) {
        ctx.addIssue({ code: "custom", path: [name], message: "is required in production" });
      }
    }
    const stripe = [c.STRIPE_SECRET_KEY, c.STRIPE_PUBLISHABLE_KEY, c.STRIPE_WEBHOOK_SECRET];
    if (stripe.some(Boolean) && !stripe.every(Boolean)) {
      for (const name of ["STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET"] as const) {
        if (!c[name]) ctx.addIssue({ code: "custom", path: [name], message: "is required when any Stripe key is set" });
      }
    }
    if (c.NODE_ENV === "production" && !c.STRIPE_SECRET_KEY) {
      ctx.addIssue({ code: "custom", path: ["STRIPE_SECRET_KEY"], message: "is required in production" });
    }
    if (c.NODE_ENV === "production" && !c.DATABASE_URL) {
      ctx.addIssue({ code: "custom", path: ["DATABASE_URL"], message: "is required in production" });
    }
  })
  .transform((c) => ({ ...c, DEMO_DATA: c.DEMO_DATA ?? c.NODE_ENV !== "production" }));

export type Config = z.infer<typeof schema>;

export class ConfigError extends Error {}

/** Parses the environment; throws ConfigError listing every problem, one per line. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable (FOO= in .env) means "not set", as most tools treat it.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = schema.safeParse(cleaned);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `  - ${i.path.join(".") || "(config)"} ${i.message}`);
  throw new ConfigError(`Configuration error:\n${lines.join("\n")}\nSee .env.example for every setting.`);
}
