# syntax=docker/dockerfile:1

# ---- build: install everything, compile TypeScript, then drop the dev dependencies -------------
FROM node:24-slim AS build
WORKDIR /app

# The sources are copied before `npm ci` because its prepare script compiles them (npm run build).
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY server ./server
COPY adapters ./adapters
COPY views ./views
COPY console ./console
COPY migrations ./migrations

# @node-rs/argon2 ships prebuilt N-API binaries, so no compiler is needed here.
# The "node" dependency downloads Node 24 into node_modules; in this image the system node is
# already 24, so that copy is redundant here, but harmless.
RUN npm ci --no-audit --no-fund \
 && npm prune --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# ---- runtime: the compiled server, production dependencies, migrations and the stylesheet ----------
FROM node:24-slim
ENV NODE_ENV=production \
    PORT=3000 \
    DATA_DIR=/data
WORKDIR /app

COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/migrations ./migrations
COPY --from=build /app/views/gatehouse.css /app/views/passkeys.js ./views/

# Runs as the image's unprivileged "node" user. /data is only written in embedded mode (no
# DATABASE_URL), which is for trying things out, not for production.
RUN mkdir -p /data && chown node:node /data
USER node

EXPOSE 3000
# /healthz answers while the process is up; orchestrators that route traffic should use /readyz.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

# node directly (not npm start) so that SIGTERM from `docker stop` reaches the server, which then
# drains in-flight requests before exiting.
CMD ["node", "dist/server/index.js"]
