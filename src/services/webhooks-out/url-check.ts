// Receivers' URLs are checked when an endpoint is registered and again at every delivery: https in production,
// and no private, loopback, link-local or otherwise non-public address unless WEBHOOK_ALLOW_PRIVATE is set
// (tests and the demo post to 127.0.0.1). Every address the host resolves to is checked, and deliveries connect
// only to an address checked in that same lookup (guardedLookup), so a host that re-resolves to an internal
// address after registration (DNS rebinding) is refused.
import dns from "node:dns";
import net from "node:net";
import { badInput } from "../../lib/errors";

export interface UrlPolicy {
  /** https only when true (NODE_ENV=production). */
  production: boolean;
  /** WEBHOOK_ALLOW_PRIVATE: allow private and loopback addresses. */
  allowPrivate: boolean;
}

export interface ResolvedAddress {
  address: string;
  family: number;
}

export type Resolver = (host: string) => Promise<ResolvedAddress[]>;

const systemResolver: Resolver = (host) => dns.promises.lookup(host, { all: true, verbatim: true });

const V4_BLOCKS: [string, number][] = [
  ["0.0.0.0", 8], // "this network"
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // carrier-grade NAT
  ["127.0.0.0", 8],
  ["169.254.0.0", 16], // link-local, cloud metadata
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, broadcast
];
const V6_BLOCKS: [string, number][] = [
  ["::", 128],
  ["::1", 128],
  ["100::", 64], // discard
  ["2001:db8::", 32], // documentation
  ["fc00::", 7], // unique local
  ["fe80::", 10], // link-local
  ["fec0::", 10], // old site-local
  ["ff00::", 8], // multicast
];
const blocked = new net.BlockList();
for (const [a, p] of V4_BLOCKS) blocked.addSubnet(a, p, "ipv4");
for (const [a, p] of V6_BLOCKS) blocked.addSubnet(a, p, "ipv6");

/** The 16 bytes of an IPv6 address (one that net.isIPv6 accepts). */
function ipv6Bytes(addr: string): number[] {
  let s = addr.split("%")[0]!.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    s = `${s.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = s.split("::") as [string, string | undefined];
  const h = head ? head.split(":") : [];
  const r = rest ? rest.split(":") : [];
  const groups = rest === undefined ? h : [...h, ...Array<string>(8 - h.length - r.length).fill("0"), ...r];
  return groups.flatMap((g) => {
    const n = Number.parseInt(g, 16);
    return [n >> 8, n & 0xff];
  });
}

/** True for any address a webhook must not reach: private, loopback, link-local, multicast, reserved. */
export function isNonPublicAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 4) return blocked.check(address, "ipv4");
  if (family !== 6) return true;
  const b = ipv6Bytes(address);
  const v4 = (o: number) => b.slice(o, o + 4).join(".");
  const zero = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  // IPv4 embedded in IPv6: mapped (::ffff:a.b.c.d), compatible (::a.b.c.d), NAT64 (64:ff9b::/96), 6to4 (2002::/16).
  if (zero(0, 10) && b[10] === 0xff && b[11] === 0xff) return blocked.check(v4(12), "ipv4");
  if (zero(0, 12)) return zero(12, 14) || blocked.check(v4(12), "ipv4");
  if (b[0] === 0 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zero(4, 12)) {
    return blocked.check(v4(12), "ipv4");
  }
  if (b[0] === 0x20 && b[1] === 0x02) return blocked.check(v4(2), "ipv4");
  return blocked.check(address.split("%")[0]!, "ipv6");
}

/** Resolves `host` and refuses it when any of its addresses is non-public (unless allowed). */
export async function resolvePublic(host: string, allowPrivate: boolean, resolve: Resolver = systemResolver) {
  const bare = host.startsWith("[") ? host.slice(1, -1) : host;
  let addrs: ResolvedAddress[];
  if (net.isIP(bare)) addrs = [{ address: bare, family: net.isIP(bare) }];
  else {
    try {
      addrs = await resolve(bare);
    } catch {
      throw badInput(`The host ${bare} could not be found.`);
    }
  }
  if (addrs.length === 0) throw badInput(`The host ${bare} could not be found.`);
  if (!allowPrivate && addrs.some((a) => isNonPublicAddress(a.address))) {
    throw badInput(`The host ${bare} is a private, loopback or link-local address; webhooks go to public hosts only.`);
  }
  return addrs;
}

/** Parses and checks a receiver's URL; returns it normalised, or throws a BAD_INPUT AppError saying why. */
export async function checkWebhookUrl(raw: string, policy: UrlPolicy, resolve?: Resolver): Promise<string> {
  const text = raw.trim();
  if (text.length > 2000) throw badInput("The URL is too long (2,000 characters at most).");
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw badInput("Enter a full URL, such as https://example.org/bridge-webhooks.");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw badInput("The URL must start with https://.");
  if (url.protocol === "http:" && policy.production) throw badInput("The URL must use https://.");
  if (url.username || url.password) throw badInput("The URL must not contain a user name or password.");
  url.hash = "";
  await resolvePublic(url.hostname, policy.allowPrivate, resolve);
  return url.toString();
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | ResolvedAddress[], family?: number) => void;

/**
 * A `lookup` for http.request that resolves once, refuses non-public answers and hands the socket only the
 * addresses it checked, so the connection goes where the check looked.
 */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: { all?: boolean }, callback: LookupCallback) => {
    resolvePublic(hostname, allowPrivate).then(
      (addrs) => (options.all ? callback(null, addrs) : callback(null, addrs[0]!.address, addrs[0]!.family)),
      (err: Error) => callback(Object.assign(new Error(err.message), { code: "EWEBHOOKADDR" }), ""),
    );
  };
}
