# syntax=docker/dockerfile:1
#
# One pattern, four images: the service is chosen with a build argument.
#
#   docker build --build-arg APP=orders -t orderflow/orders:1.0.0 .
#
# prune      turbo keeps APP and only the workspace packages it depends on
# build      all dependencies, compiles APP and those packages
# prod-deps  production dependencies only
# runtime    prod-deps + the compiled output; non-root; node is PID 1
#
# Dependencies are installed with `npm install`, not `npm ci`: npm 11 leaves other
# platforms' optional packages (turbo's, unrs-resolver's binaries) out of the
# lockfile and `npm ci` then refuses it. `npm install` still takes every version
# the lockfile pins.

ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS base
# The npm of the root package.json "packageManager", so the lockfile is read the
# way it was written.
ARG NPM_VERSION=11.19.1
ENV NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false \
    TURBO_TELEMETRY_DISABLED=1
RUN npm install --global npm@${NPM_VERSION}
WORKDIR /repo

FROM base AS prune
ARG APP
# The turbo version of the root lockfile.
ARG TURBO_VERSION=2.11.11
RUN test -n "${APP}" || { echo "build with --build-arg APP=<orders|payment|inventory|shipping>" >&2; exit 1; }
RUN npm install --global turbo@${TURBO_VERSION}
COPY . .
RUN turbo prune @orderflow/${APP} --docker --out-dir /pruned

FROM base AS build
ARG APP
# Manifests and lockfile first: this layer stays cached until dependencies change.
COPY --from=prune /pruned/json/ ./
RUN npm install --ignore-scripts
COPY --from=prune /pruned/full/ ./
# Every tsconfig extends it; turbo prune copies workspaces, not root files.
COPY tsconfig.base.json ./
RUN npx turbo run build --filter=@orderflow/${APP}
# What the runtime needs from the build: compiled output only, plus the inventory
# catalog that its seed reads, plus the app's own config schema (the HEALTHCHECK
# takes the default PORT from it).
RUN mkdir -p /runtime \
 && for dir in apps/* packages/*; do \
      if [ -d "$dir/dist" ]; then mkdir -p "/runtime/$dir" && cp -R "$dir/dist" "/runtime/$dir/"; fi; \
    done \
 && if [ -d "apps/${APP}/catalog" ]; then cp -R "apps/${APP}/catalog" "/runtime/apps/${APP}/"; fi \
 && node "apps/${APP}/dist/main.js" --print-config > "/runtime/apps/${APP}/config-schema.json"

FROM base AS prod-deps
COPY --from=prune /pruned/json/ ./
RUN npm install --omit=dev --ignore-scripts

FROM ${NODE_IMAGE} AS runtime
ARG APP
ENV NODE_ENV=production
WORKDIR /app
COPY --from=prod-deps /repo/ ./
COPY --from=build /runtime/ ./
WORKDIR /app/apps/${APP}
# uid 1000 is the image's `node` user; numeric so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "const port = process.env.PORT || require('./config-schema.json').find((v) => v.name === 'PORT').default; fetch('http://127.0.0.1:' + port + '/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node itself is PID 1 (exec form, no shell), so SIGTERM reaches the service's
# shutdown handler: stop HTTP, finish in-flight events, commit offsets, exit 0.
STOPSIGNAL SIGTERM
# 32 MB semi-spaces: the same flags as the test kit's SERVICE_NODE_FLAGS and `npm start` (README, Benchmark).
CMD ["node", "--max-semi-space-size=32", "dist/main.js"]
