// The routes of the real app, read from its Express router (not a hand list), so tests cover new routes too.
import type { Express } from "express";

interface Layer {
  rawPath?: unknown;
  route?: { path: string | string[]; methods: Record<string, boolean>; stack: { handle: unknown }[] };
  handle?: { stack?: Layer[] };
}

export interface AppRoute {
  method: "get" | "post" | "all";
  path: string;
  /** The route's own handlers, last one the endpoint. */
  handlers: unknown[];
}

export function appRoutes(app: Express): AppRoute[] {
  const out: AppRoute[] = [];
  const walk = (layers: Layer[], prefix: string) => {
    for (const l of layers) {
      if (l.route) {
        const methods = l.route.methods._all ? ["all"] : Object.keys(l.route.methods);
        const paths = Array.isArray(l.route.path) ? l.route.path : [l.route.path];
        for (const method of methods)
          for (const path of paths)
            out.push({
              method: method as AppRoute["method"],
              path: prefix + path,
              handlers: l.route.stack.map((s) => s.handle),
            });
      } else if (l.handle?.stack) {
        // A router mounted at a path (app.use("/api/v1", router)) adds it to its routes' paths.
        const mount = typeof l.rawPath === "string" && l.rawPath !== "/" ? l.rawPath : "";
        walk(l.handle.stack, prefix + mount);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, "");
  return out;
}
