// Sums up a --cpu-prof profile of the server under load (bench:http with BENCH_PROFILE_DIR writes one per page):
// where the CPU went, by part (Prisma, pg, templates, logging, session, helmet, Express, Node's HTTP, GC…), from
// the first signed-in request plus `--skip` seconds (the warm-up) to the end. A sample counts for the first part
// found walking from the running function up its stack, so "pino" includes the writes pino makes.
//   node --import tsx scripts/bench/profile-summary.ts <file.cpuprofile> [--skip=3] [--requests=<n>]
// With --requests (the requests served in that window) it also prints CPU milliseconds per request.
import fs from "node:fs";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const PARTS: [string, RegExp][] = [
  ["Prisma (query compiler, WASM)", /^wasm:|@prisma\/client|generated\/prisma|@prisma\/adapter-pg/],
  ["pg driver", /node_modules\/(pg|pg-pool|pg-protocol|pg-types|postgres-\w+)\//],
  ["Nunjucks (render)", /node_modules\/(nunjucks|a-sync-waterfall)\//],
  ["pino request log", /node_modules\/(pino|pino-http|@pinojs|sonic-boom|fast-redact|thread-stream)/],
  ["session (express-session, store)", /node_modules\/(express-session|connect-pg-simple|cookie-signature|cookie)\//],
  ["passport", /node_modules\/passport/],
  ["helmet", /node_modules\/helmet\//],
  ["zod (input)", /node_modules\/zod\//],
  ["Express, router, send", /node_modules\/(express|router|send|fresh|body-parser|finalhandler|serve-static|path-to-regexp|qs|content-type|type-is|mime|on-finished|parseurl)/],
  ["ETag (hash of each body)", /node_modules\/etag\//],
  ["app code (dist)", /\/dist\//],
  ["Node sockets and streams (HTTP and pg)", /^node:(net|_http_\w+|internal\/(streams|stream_base_commons|http))/],
];

function partOf(url: string, fn: string): string | null {
  if (fn === "(garbage collector)") return "GC";
  if (fn === "(idle)") return "idle";
  for (const [name, re] of PARTS) if (re.test(url)) return name;
  return null;
}

function main() {
  const [file, ...args] = process.argv.slice(2);
  if (!file) throw new Error("usage: profile-summary.ts <file.cpuprofile> [--skip=3] [--requests=<n>]");
  const opt = (k: string) => args.find((a) => a.startsWith(`--${k}=`))?.split("=")[1];
  const skipMs = Number(opt("skip") ?? 3) * 1000;
  const requests = opt("requests") ? Number(opt("requests")) : null;
  const p = JSON.parse(fs.readFileSync(file, "utf8")) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  // Part of each node, memoised: its own part, else its caller's; Node internals seen first name the fallback.
  const memo = new Map<number, string>();
  const part = (id: number): string => {
    const hit = memo.get(id);
    if (hit) return hit;
    const n = byId.get(id)!;
    let found = partOf(n.callFrame.url, n.callFrame.functionName);
    if (!found) {
      const up = parent.get(id);
      const above = up === undefined ? null : part(up);
      if (above && above !== "(root)" && above !== "other") found = above;
      else if (n.callFrame.functionName === "(program)") found = "(program: native, not JS)";
      else if (n.callFrame.functionName === "(root)") found = "(root)";
      else found = "other";
    }
    memo.set(id, found);
    return found;
  };
  const touchesSession = (id: number) => {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at))
      if (/express-session/.test(byId.get(at)!.callFrame.url)) return true;
    return false;
  };

  let t = 0;
  let start: number | null = null;
  const ms = new Map<string, number>();
  let window = 0;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i]! / 1000;
    if (start === null && touchesSession(p.samples[i]!)) start = t;
    if (start === null || t < start + skipMs) continue;
    const d = p.timeDeltas[i]! / 1000;
    window += d;
    const k = part(p.samples[i]!);
    ms.set(k, (ms.get(k) ?? 0) + d);
  }
  const busy = window - (ms.get("idle") ?? 0);
  console.log(`${file}: ${(window / 1000).toFixed(1)} s analysed, CPU busy ${((100 * busy) / window).toFixed(0)}%`);
  for (const [k, v] of [...ms].sort((a, b) => b[1] - a[1])) {
    if (k === "idle") continue;
    const perReq = requests ? `  ${(v / requests).toFixed(2)} ms/request` : "";
    console.log(`  ${k.padEnd(36)} ${((100 * v) / busy).toFixed(1).padStart(5)}%${perReq}`);
  }
  if (requests) console.log(`  CPU per request: ${(busy / requests).toFixed(2)} ms`);
}

main();
