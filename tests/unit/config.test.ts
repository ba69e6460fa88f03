import { ConfigError, loadConfig } from "../../src/config";

describe("configuration", () => {
  test("defaults", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ PORT: 3000, TIME_ZONE: "Australia/Sydney", NODE_ENV: "development", DEMO_DATA: true });
    expect(c.DATABASE_URL).toBeUndefined();
  });

  test("every problem is named, one per line", () => {
    let message = "";
    try {
      loadConfig({ PORT: "http", TIME_ZONE: "Mars/Olympus", DATABASE_URL: "mysql://x", SESSION_SECRET: "short" });
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      message = (e as Error).message;
    }
    expect(message).toContain("PORT must be a whole number");
    expect(message).toContain("TIME_ZONE is not a known IANA time zone");
    expect(message).toContain("DATABASE_URL must be a postgresql:// connection URL");
    expect(message).toContain("SESSION_SECRET must be at least 32 characters");
  });

  test("production needs its own database, session secret and encryption key", () => {
    expect(() => loadConfig({ NODE_ENV: "production" })).toThrow(/SESSION_SECRET is required in production/);
    expect(() => loadConfig({ NODE_ENV: "production" })).toThrow(/APP_ENCRYPTION_KEY is required in production/);
    expect(() => loadConfig({ APP_ENCRYPTION_KEY: "short" })).toThrow(/APP_ENCRYPTION_KEY must be at least 32/);
    expect(() => loadConfig({ NODE_ENV: "production" })).toThrow(/DATABASE_URL is required in production/);
  });

  test("demo data (known logins) only when asked for in production", () => {
    const prod = {
      NODE_ENV: "production",
      DATABASE_URL: "postgresql://u@db/x",
      SESSION_SECRET: "s".repeat(40),
      APP_ENCRYPTION_KEY: "k".repeat(40),
      STRIPE_SECRET_KEY: "sk_test_x",
      STRIPE_PUBLISHABLE_KEY: "pk_test_x",
      STRIPE_WEBHOOK_SECRET: "whsec_x",
    };
    expect(loadConfig(prod).DEMO_DATA).toBe(false);
    expect(loadConfig({ ...prod, DEMO_DATA: "true" }).DEMO_DATA).toBe(true);
    expect(loadConfig({ DEMO_DATA: "false" }).DEMO_DATA).toBe(false);
  });

  test("migrations run at start-up unless MIGRATE_ON_START=false", () => {
    expect(loadConfig({}).MIGRATE_ON_START).toBe(true);
    expect(loadConfig({ MIGRATE_ON_START: "false" }).MIGRATE_ON_START).toBe(false);
    expect(() => loadConfig({ MIGRATE_ON_START: "never" })).toThrow(/MIGRATE_ON_START must be true or false/);
  });

  test("empty values count as unset", () => {
    expect(loadConfig({ PORT: "", DATABASE_URL: "" }).PORT).toBe(3000);
  });
});
