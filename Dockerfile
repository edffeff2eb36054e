# orgctl: the CLI and the in-cluster controller (deploy/ runs `orgctl controller --kubernetes`).
#   docker build -t orgctl:0.1.0 .
# Build stage: compile TypeScript, then install the production dependencies alone (better-sqlite3 is built
# from source on Node 20, hence the compiler toolchain here and only here).
FROM node:20-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npx tsc -p tsconfig.json
WORKDIR /app
RUN cp /src/package.json /src/package-lock.json ./ \
 && npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm rebuild better-sqlite3 \
 && npm cache clean --force

# Runtime stage: no compiler, no dev dependencies, not root, nothing written outside /tmp.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY crds ./crds
# The image's unprivileged "node" user (uid 1000), as deploy/20-deployment.yaml runs it.
USER 1000:1000
EXPOSE 9464
ENTRYPOINT ["node", "/app/bin/orgctl.js"]
CMD ["controller", "--kubernetes", "--leader-elect", "--metrics-addr", "0.0.0.0:9464"]
