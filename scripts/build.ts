// `npm run build`: compiles src/ (the generated Prisma client included) to dist/ with tsc, then copies the
// non-TypeScript files that live beside the sources (the Stripe emulator's stand-in script) so dist/ runs with
// plain `node`. views/, public/ and prisma/ are read from the project root, not from dist/.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { projectRoot } from "../src/lib/paths";

const src = path.join(projectRoot, "src");
const dist = path.join(projectRoot, "dist");

fs.rmSync(dist, { recursive: true, force: true });
const tsc = spawnSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", "tsconfig.build.json"], {
  cwd: projectRoot,
  stdio: "inherit",
});
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

let copied = 0;
for (const file of fs.readdirSync(src, { recursive: true, encoding: "utf8" })) {
  const from = path.join(src, file);
  if (file.endsWith(".ts") || !fs.statSync(from).isFile()) continue;
  fs.mkdirSync(path.dirname(path.join(dist, file)), { recursive: true });
  fs.copyFileSync(from, path.join(dist, file));
  copied += 1;
}
console.log(`dist/ built (${copied} asset file${copied === 1 ? "" : "s"} copied)`);
