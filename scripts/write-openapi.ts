// Writes the API's OpenAPI document (generated from the zod schemas) to a file, for `redocly lint` in CI.
import fs from "node:fs";
import { buildOpenApiDocument } from "../src/services/api/openapi";

const out = process.argv[2];
if (!out) {
  console.error("usage: node --import tsx scripts/write-openapi.ts <file.json>");
  process.exit(2);
}
fs.writeFileSync(out, `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`);
