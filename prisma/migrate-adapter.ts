// Driver adapter for Prisma 6's offline ("js") schema engine. The stock @prisma/adapter-pg has three problems
// the migration engine trips over (see notes/stack-recipe.md); this wrapper fixes each of them:
//  - catalog columns of type `name` / `"char"` cannot be deserialised: report them as text;
//  - the shadow database must really be a separate database (and be dropped only after its pool closes);
//  - migration scripts must run as one multi-statement query so `$$` function bodies survive.
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";

const REMAP: Record<number, number> = { 18: 25, 19: 25, 1002: 1009, 1003: 1009 };

// biome-ignore lint/suspicious/noExplicitAny: pg result shapes are untyped at this level
function fix(res: any) {
  for (const r of Array.isArray(res) ? res : [res])
    for (const f of r?.fields ?? []) if (REMAP[f.dataTypeID]) f.dataTypeID = REMAP[f.dataTypeID];
  return res;
}

function makePool(connectionString: string) {
  const pool = new pg.Pool({ connectionString, idleTimeoutMillis: 100 });
  // biome-ignore lint/suspicious/noExplicitAny: patching the client's query method
  pool.on("connect", (client: any) => {
    const orig = client.query.bind(client);
    // biome-ignore lint/suspicious/noExplicitAny: variadic pg query signature
    client.query = (...args: any[]) => {
      const cb = args[args.length - 1];
      if (typeof cb === "function") {
        // biome-ignore lint/suspicious/noExplicitAny: pg callback signature
        args[args.length - 1] = (e: any, r: any) => cb(e, e ? r : fix(r));
        return orig(...args);
      }
      const r = orig(...args);
      return r && typeof r.then === "function" ? r.then(fix) : r;
    };
  });
  return pool;
}

async function admin(url: string, sql: string) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

async function open(url: string) {
  const pool = makePool(url);
  // biome-ignore lint/suspicious/noExplicitAny: we replace executeScript on the adapter instance
  const adapter: any = await new PrismaPg(pool, { disposeExternalPool: true }).connect();
  adapter.executeScript = async (script: string) => {
    try {
      await pool.query(script);
    } catch (e) {
      adapter.onError(e);
    }
  };
  return adapter;
}

export class MigrateAdapterFactory {
  readonly provider = "postgres" as const;
  readonly adapterName = "@prisma/adapter-pg";
  constructor(private readonly url: string) {}
  connect() {
    return open(this.url);
  }
  async connectToShadowDb() {
    const db = `prisma_shadow_${process.pid}_${Date.now()}`;
    await admin(this.url, `CREATE DATABASE "${db}"`);
    const u = new URL(this.url);
    u.pathname = `/${db}`;
    const adapter = await open(u.toString());
    const dispose = adapter.dispose.bind(adapter);
    adapter.dispose = async () => {
      await dispose();
      await admin(this.url, `DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
    };
    return adapter;
  }
}
