// Where a benchmark's CPU went: the app server, PostgreSQL (every process named "postgres", the benchmark's own
// server and its backends) and the load generator (this process), read from /proc before and after a run. On a
// machine where the database shares the cores with the app, req/s alone cannot say which side to work on; CPU
// milliseconds per request can. Linux only; elsewhere the figures are absent.
import fs from "node:fs";

const TICK_MS = 10; // USER_HZ is 100 on every Linux this runs on (sysconf(_SC_CLK_TCK))

/** utime + stime of one process, in clock ticks (0 once it is gone). */
function ticks(pid: number | string): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
}

/** Ticks of each process that `pick` selects by name and parent pid, keyed by pid. */
function ticksOf(pick: (comm: string, ppid: number) => boolean): Map<string, number> {
  const out = new Map<string, number>();
  let pids: string[];
  try {
    pids = fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  for (const pid of pids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (pick(comm, Number(f[1]))) out.set(pid, Number(f[11]) + Number(f[12]));
    } catch {
      // gone between the listing and the read
    }
  }
  return out;
}

const postgres = () => ticksOf((comm) => comm === "postgres");
/** The server and its workers (WEB_CONCURRENCY), if it has any. */
const serverTree = (pid: number) => ticksOf((_, ppid) => ppid === pid).set(String(pid), ticks(pid));

const since = (now: Map<string, number>, before: Map<string, number>) => {
  // Processes that began during the run started from zero; those that ended are lost (pools keep theirs).
  let sum = 0;
  for (const [pid, t] of now) sum += t - (before.get(pid) ?? 0);
  return sum * TICK_MS;
};

export interface CpuSplit {
  server: number;
  database: number;
  loadGenerator: number;
}

/** Starts measuring; `stop(requests)` answers CPU milliseconds per request for each side (null off Linux). */
export function cpuMeter(serverPid: number) {
  const start = { server: serverTree(serverPid), database: postgres(), self: process.cpuUsage() };
  return {
    stop(requests: number): CpuSplit | null {
      if (!fs.existsSync("/proc/self/stat") || requests <= 0) return null;
      const self = process.cpuUsage(start.self);
      return {
        server: since(serverTree(serverPid), start.server) / requests,
        database: since(postgres(), start.database) / requests,
        loadGenerator: (self.user + self.system) / 1000 / requests,
      };
    },
  };
}
