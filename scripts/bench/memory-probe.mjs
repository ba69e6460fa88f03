// Preloaded (node --expose-gc --import) into the server the memory benchmark starts: on a message from the
// benchmark over IPC it runs a full garbage collection and answers process.memoryUsage(), or writes a heap
// snapshot. It keeps no references and does nothing until asked. The IPC channel is unref'd so it never keeps
// the server alive on its own.
import v8 from "node:v8";
import path from "node:path";

if (process.send) {
  process.channel?.unref();
  process.on("message", (m) => {
    try {
      if (m?.op === "memory") {
        globalThis.gc?.({ type: "major", execution: "sync" });
        globalThis.gc?.({ type: "major", execution: "sync" });
        const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
        process.send({ id: m.id, result: { rss, heapUsed, heapTotal, external, arrayBuffers } });
      } else if (m?.op === "snapshot") {
        globalThis.gc?.({ type: "major", execution: "sync" });
        const file = v8.writeHeapSnapshot(path.join(m.dir, `server-${Date.now()}.heapsnapshot`));
        process.send({ id: m.id, result: file });
      }
    } catch (e) {
      process.send({ id: m?.id, error: String(e) });
    }
  });
}
