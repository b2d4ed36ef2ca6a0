# One image for all seven services; SERVICE picks which one a container runs.
# Stage 1 resolves the workspace from the lockfile alone (cached until it changes),
# then installs offline and generates the protobuf code.
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN npm install -g pnpm@10.34.9
COPY pnpm-lock.yaml pnpm-workspace.yaml ./
# patchedDependencies (pnpm-workspace.yaml) name these files; the lockfile pins their hashes.
COPY patches ./patches
RUN pnpm fetch
COPY . .
RUN pnpm install --offline --frozen-lockfile \
 && pnpm exec buf generate \
 && pnpm exec tsc -p tsconfig.json

# Stage 2: the runtime. Sources run through tsx, so the image carries the workspace as built.
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    LOG_LEVEL=info
WORKDIR /app
COPY --from=build --chown=node:node /app /app
USER node
ARG SERVICE=cloud-service
ENV SERVICE=${SERVICE}
EXPOSE 50051 50052 50053 50054 50055 50056 50057 8080
# Each service's port comes from <SERVICE>_ADDR; HEALTH_PORT tells the probe which one to ask.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.HEALTH_PORT||50053)+'/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
STOPSIGNAL SIGTERM
CMD ["sh", "-c", "exec node --import tsx services/${SERVICE}/src/main.ts"]
