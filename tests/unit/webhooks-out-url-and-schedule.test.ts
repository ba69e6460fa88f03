// Receivers' URL checks (scheme, private addresses, every resolved address) and the retry schedule's span.
import type { AppError } from "../../src/lib/errors";
import {
  backoffSchedule,
  DEFAULT_SCHEDULE,
  earliestNextAttempt,
  scheduleSpan,
  THREE_DAYS_SECONDS,
} from "../../src/services/webhooks-out/retry-schedule";
import { checkWebhookUrl, isNonPublicAddress, type Resolver } from "../../src/services/webhooks-out/url-check";

const dev = { production: false, allowPrivate: false };
const prod = { production: true, allowPrivate: false };
const resolveTo =
  (...addresses: string[]): Resolver =>
  async () =>
    addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
const refusal = (p: Promise<unknown>) =>
  p.then(
    () => "accepted",
    (e: AppError) => e.message,
  );

describe("checkWebhookUrl", () => {
  test("https always; http only outside production", async () => {
    const pub = resolveTo("93.184.216.34");
    expect(await checkWebhookUrl("https://hooks.example.org/x#frag", prod, pub)).toBe("https://hooks.example.org/x");
    expect(await refusal(checkWebhookUrl("http://hooks.example.org/x", prod, pub))).toBe("The URL must use https://.");
    expect(await checkWebhookUrl("http://hooks.example.org/x", dev, pub)).toBe("http://hooks.example.org/x");
    expect(await refusal(checkWebhookUrl("ftp://hooks.example.org/", dev, pub))).toMatch(/https/);
    expect(await refusal(checkWebhookUrl("not a url", dev, pub))).toMatch(/full URL/);
    expect(await refusal(checkWebhookUrl("https://u:p@hooks.example.org/", dev, pub))).toMatch(/password/);
  });

  test("private, loopback and link-local addresses are refused, literal or resolved, IPv4 or IPv6", async () => {
    for (const url of ["http://127.0.0.1/", "http://[::1]/", "http://10.0.0.5/", "http://169.254.169.254/latest"]) {
      expect(await refusal(checkWebhookUrl(url, dev))).toMatch(/private, loopback or link-local/);
    }
    // One bad address among good ones is enough to refuse (a host answering with several).
    const mixed = resolveTo("93.184.216.34", "fd12::1");
    expect(await refusal(checkWebhookUrl("https://mixed.example.org/", dev, mixed))).toMatch(/private/);
    const mapped = resolveTo("::ffff:192.168.1.10");
    expect(await refusal(checkWebhookUrl("https://mapped.example.org/", dev, mapped))).toMatch(/private/);
    const gone: Resolver = async () => {
      throw Object.assign(new Error("nope"), { code: "ENOTFOUND" });
    };
    expect(await refusal(checkWebhookUrl("https://nowhere.invalid/", dev, gone))).toMatch(/could not be found/);
  });

  test("WEBHOOK_ALLOW_PRIVATE lets them through", async () => {
    const allow = { production: false, allowPrivate: true };
    expect(await checkWebhookUrl("http://127.0.0.1:4700/hooks", allow)).toBe("http://127.0.0.1:4700/hooks");
  });

  test("address classes", () => {
    const blocked = [
      "0.0.0.0",
      "10.1.2.3",
      "100.64.0.1",
      "172.31.255.255",
      "192.168.0.1",
      "224.0.0.1",
      "::",
      "fe80::1",
    ];
    const open = ["8.8.8.8", "172.32.0.1", "2606:4700::1111", "::ffff:8.8.8.8", "2002:808:808::"];
    expect(blocked.filter((a) => !isNonPublicAddress(a))).toEqual([]);
    expect(open.filter((a) => isNonPublicAddress(a))).toEqual([]);
    expect(["64:ff9b::a00:1", "2002:a00:1::", "::127.0.0.1"].every(isNonPublicAddress)).toBe(true);
  });
});

describe("retry schedule", () => {
  test("the default backoff spans about 3 days (between 2 and 4, 3 expected)", () => {
    const { min, max } = scheduleSpan(DEFAULT_SCHEDULE);
    expect(DEFAULT_SCHEDULE).toEqual({ retryLimit: 12, retryDelay: 42, retryBackoff: true });
    const expected = (min + max) / 2;
    expect(Math.abs(expected - THREE_DAYS_SECONDS) / THREE_DAYS_SECONDS).toBeLessThan(0.01);
    expect(min).toBeGreaterThan(2 * 86_400 * 0.99);
    expect(max).toBeLessThan(4 * 86_400);
  });

  test("delays double per retry, from the delay itself", () => {
    const s = backoffSchedule(600, 4);
    const t0 = new Date(0);
    expect([0, 1, 2, 3].map((r) => earliestNextAttempt(s, r, t0).getTime() / 1000)).toEqual(
      [1, 2, 4, 8].map((k) => k * s.retryDelay),
    );
  });
});
