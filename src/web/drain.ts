// Graceful shutdown of the HTTP server: stop accepting connections, let the requests in flight finish (a payment
// half-way through is answered, not cut off), and give up on them after a bounded time so a stuck request cannot
// hold the shutdown forever.
import type { Server } from "node:http";

/**
 * Closes `server` and waits for its requests in flight, at most `timeoutMs`; then cuts the remaining connections.
 * Answers whether it had to cut any. Requests arriving meanwhile on open connections are answered with
 * `Connection: close`.
 */
export function drainServer(server: Server, timeoutMs: number): Promise<{ cut: boolean }> {
  return new Promise((resolve) => {
    let cut = false;
    server.on("request", (_req, res) => {
      if (!res.headersSent) res.setHeader("Connection", "close");
    });
    const timer = setTimeout(() => {
      cut = true;
      server.closeAllConnections();
    }, timeoutMs);
    timer.unref();
    // Keep-alive connections with no request in flight would hold close() open until they time out: close each
    // as soon as its last response is out.
    const idle = setInterval(() => server.closeIdleConnections(), 100);
    server.close(() => {
      clearTimeout(timer);
      clearInterval(idle);
      resolve({ cut });
    });
    server.closeIdleConnections();
  });
}
