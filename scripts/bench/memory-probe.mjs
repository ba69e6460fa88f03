// Preloaded (node --expose-gc --import) into the server the memory benchmark starts: on a message from the
// benchmark over IPC it runs a full garbage collection and answers process.memoryUsage(), or writes a heap
// snapshot. It keeps no references and does nothing until asked. The IPC channel is unref'd so it never keeps
// the server alive on its own.
import v8 from "node:v8";
import path from "node:path";

if (process.send) {
  process.channel?.unref();
  // Full collections with turns of the event loop between them, so weak callbacks and finalizers that free more
  // (native objects' cleanup runs after a collection) have run before the figures are read.
  const collect = async () => {
    for (let i = 0; i < 3; i++) {
      globalThis.gc?.();
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  process.on("message", async (m) => {
    try {
      if (m?.op === "memory") {
        await collect();
        const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
        // Each heap space's size (what V8 holds) and use (what is live), in bytes: where heap total went.
        const spaces = Object.fromEntries(
          v8.getHeapSpaceStatistics().map((s) => [s.space_name, [s.space_size, s.space_used_size]]),
        );
        process.send({ id: m.id, result: { rss, heapUsed, heapTotal, external, arrayBuffers, spaces } });
      } else if (m?.op === "snapshot") {
        await collect();
        const file = v8.writeHeapSnapshot(path.join(m.dir, `server-${Date.now()}.heapsnapshot`));
        process.send({ id: m.id, result: file });
      }
    } catch (e) {
      process.send({ id: m?.id, error: String(e) });
    }
  });
}
