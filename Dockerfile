# syntax=docker/dockerfile:1
#
# nightshift container image.
#
#   docker build -t nightshift .
#   docker run --read-only --tmpfs /tmp -v nightshift-data:/var/lib/nightshift -p 8080:8080 nightshift
#
# Three stages: `build` compiles TypeScript with every dependency installed, `deps` installs the
# production dependencies only, and the runtime stage copies the two results onto a slim Node 20
# base. The runtime runs as uid 10001 and writes nothing outside /var/lib/nightshift (the data
# volume) and /tmp, so it runs with a read-only root filesystem.

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS deps
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
# npm, npx, corepack and yarn are not needed to run and only add size and attack surface.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /opt/yarn-* \
      /usr/local/bin/yarn /usr/local/bin/yarnpkg \
  && groupadd --system --gid 10001 nightshift \
  && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/nightshift --no-create-home \
      --shell /usr/sbin/nologin nightshift \
  && mkdir -p /var/lib/nightshift \
  && chown 10001:10001 /var/lib/nightshift \
  && chmod 0750 /var/lib/nightshift

WORKDIR /app
COPY --from=deps /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY policies ./policies
COPY evals ./evals

# Only non-secret defaults belong here; secrets come from the orchestrator (`<VARIABLE>_FILE`).
ENV NODE_ENV=production \
    NIGHTSHIFT_HOST=0.0.0.0 \
    NIGHTSHIFT_PORT=8080 \
    NIGHTSHIFT_DATA_DIR=/var/lib/nightshift

USER 10001:10001
VOLUME ["/var/lib/nightshift"]
EXPOSE 8080

# The slim base has no curl; Node's fetch does the check. Liveness only: /readyz is for routing.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.NIGHTSHIFT_PORT||8080)+'/healthz').then((r)=>process.exit(r.ok?0:1),()=>process.exit(1))"]

ENTRYPOINT ["node", "dist/main.js"]
CMD ["run"]
