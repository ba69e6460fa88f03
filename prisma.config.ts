import "./prisma/unref-long-timers.cjs";
import dotenv from "dotenv";
import path from "node:path";
import { defineConfig } from "prisma/config";
import { MigrateAdapterFactory } from "./prisma/migrate-adapter";

dotenv.config({ quiet: true });

// `prisma generate` needs no database, but the CLI insists on a URL; a dummy keeps it from trying to download
// a native query engine. Commands that really touch the database get the real DATABASE_URL.
process.env.DATABASE_URL ??= "postgresql://unused@127.0.0.1:1/unused";
const url = process.env.DATABASE_URL;

export default defineConfig({
  schema: path.join("prisma", "schema.prisma"),
  engine: "js",
  experimental: { adapter: true },
  adapter: async () => new MigrateAdapterFactory(url),
});
