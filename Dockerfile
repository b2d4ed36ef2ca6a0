# One image for all seven services; SERVICE picks which one a container runs.
#
# Image layout (/app in the runtime stage; nothing else is added to node:22-bookworm-slim):
#   dist/<service>.mjs(.map)      the compiled bundles (scripts/build.mjs: esbuild, one per service)
#   node_modules/.pnpm/…          the production dependencies of the seven services only, installed
#                                 from the lockfile at the same relative paths the bundles import
#                                 them by (../node_modules/.pnpm/<name>@<version>…/…)
#   services/<service>/drizzle/   each service's migrations, which its bundle reads at start
#   apps/console/dist/            the web console's pages, served by SERVICE=console (dist/console.mjs,
#                                 the console's gateway: deploy/base/console.yaml)
# No TypeScript, no dev dependencies, no pnpm/npm/yarn/corepack, no workspace sources.
# tests/deploy/image.test.ts runs this file's own install step and checks the result (see README "Deployment").
ARG NODE_IMAGE=node:22-bookworm-slim

# Stage 1 resolves the workspace from the lockfile alone (cached until it changes), installs
# offline, generates the protobuf code, type-checks and bundles each service.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
RUN npm install -g pnpm@10.34.9
COPY pnpm-lock.yaml pnpm-workspace.yaml ./
# patchedDependencies (pnpm-workspace.yaml) name these files; the lockfile pins their hashes.
COPY patches ./patches
RUN pnpm fetch
COPY . .
RUN pnpm install --offline --frozen-lockfile \
 && pnpm exec buf generate \
 && pnpm exec tsc -p tsconfig.json \
 && pnpm build \
 && pnpm --filter @cloudforet/console exec vite build --logLevel warn --outDir /image/console-dist
# The runtime tree: the bundles, the migrations, and a second install of the same lockfile holding
# the services' production dependencies only (the workspace's manifests, no sources). The .pnpm
# directory names come from the lockfile, so the bundles' relative imports resolve in it unchanged.
RUN mkdir -p /image/prod \
 && cp package.json pnpm-lock.yaml pnpm-workspace.yaml /image/prod/ \
 && cp -r patches /image/prod/ \
 && find packages services plugins apps tests bench -maxdepth 2 -name package.json -not -path "*/node_modules/*" \
      -exec sh -c 'mkdir -p "/image/prod/$(dirname "$1")" && cp "$1" "/image/prod/$1"' _ {} \; \
 && cd /image/prod \
 && pnpm install --prod --frozen-lockfile --offline --filter "{./services/*}..." \
 && mkdir -p /image/app \
 && mv /image/prod/node_modules /image/app/node_modules \
 && cp -r /app/dist /image/app/dist \
 && cd /app && for migrations in services/*/drizzle; do mkdir -p "/image/app/$migrations" && cp -r "$migrations/." "/image/app/$migrations/"; done \
 && if [ -d /image/console-dist ]; then mkdir -p /image/app/apps/console && cp -r /image/console-dist /image/app/apps/console/dist; fi

# Stage 2: the runtime. Each service runs as its compiled bundle on plain node. Files stay owned by
# root (read-only to the `node` user the services run as; Kubernetes also mounts the root read-only).
FROM ${NODE_IMAGE} AS runtime
# The package managers are not needed to run a bundle.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-*
ENV NODE_ENV=production \
    LOG_LEVEL=info
WORKDIR /app
COPY --from=build /image/app /app
USER node
ARG SERVICE=cloud-service
ENV SERVICE=${SERVICE}
EXPOSE 50051 50052 50053 50054 50055 50056 50057 8080 8090
# Each service's port comes from <SERVICE>_ADDR; HEALTH_PORT tells the probe which one to ask.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.HEALTH_PORT||50053)+'/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
STOPSIGNAL SIGTERM
CMD ["sh", "-c", "test -f \"dist/${SERVICE}.mjs\" || { echo \"SERVICE=${SERVICE} is not one of: $(cd dist && ls *.mjs | sed 's/\\.mjs$//' | tr '\\n' ' ')\" >&2; exit 64; }; exec node --enable-source-maps \"dist/${SERVICE}.mjs\""]
