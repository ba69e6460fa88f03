# Production image, in two stages. Build: all dependencies, the Prisma client generated into src/generated,
# then `npm run build` (tsc) into dist/. Runtime: production dependencies only, the compiled dist/, the files the
# app reads at run time (views/, public/, prisma/ with its migrations and prisma.config.ts for `npm run
# db:migrate`), a non-root user and plain `node` (no TypeScript loader).
# Migrations are not run by the app's start-up here: run `npm run db:migrate` once per deploy (docker-compose.yml
# does it in its one-shot `migrate` service) and start the app with MIGRATE_ON_START=false.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY prisma ./prisma
COPY prisma.config.ts ./
# postinstall runs `prisma generate` into src/generated/prisma (TypeScript, compiled with the rest).
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build

FROM node:20-bookworm-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000
# glibc: blocks over 128 KiB are mapped and given back when freed. Its default raises that threshold once a big
# block is freed, after which each sign-in's 19 MiB argon2 block stayed in the worker thread's malloc arena
# (about +35 MB RSS kept after a few concurrent sign-ins; docs/performance.md).
ENV MALLOC_MMAP_THRESHOLD_=131072
COPY package.json package-lock.json ./
# No install scripts: the only ones that matter (prisma generate, engine downloads) are not needed at run time;
# the generated client is compiled into dist/ and migrations use Prisma's bundled JavaScript schema engine.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY prisma ./prisma
COPY prisma.config.ts ./
COPY views ./views
COPY public ./public
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/server.js"]
