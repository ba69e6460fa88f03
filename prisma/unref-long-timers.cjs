// Prisma 6's wasm schema engine leaves 10 s and 60 s timers behind, so every CLI call would hang for up to a
// minute after finishing. Unref'ing long timers lets the process exit as soon as its work is done.
const orig = global.setTimeout;
global.setTimeout = function (fn, ms, ...a) {
  const t = orig.call(this, fn, ms, ...a);
  if (ms >= 5000 && t && typeof t.unref === "function") t.unref();
  return t;
};
