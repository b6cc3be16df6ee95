# syntax=docker/dockerfile:1
# Tessera's two images, one target each: `docker build --target controller .` and `docker build --target sidecar .`.
# Multi-stage: TypeScript is compiled in a full Node image; the final images are distroless (no shell, no package
# manager) and run as the non-root user 65532, the UID the chart and the injected sidecar expect.

ARG NODE_MAJOR=24

# Compile api/, controller/src and sidecar/src to dist/ (tsc rewrites the .ts import specifiers to .js).
FROM node:${NODE_MAJOR}-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY api ./api
COPY controller/src ./controller/src
COPY sidecar/src ./sidecar/src
RUN npx tsc -p tsconfig.build.json

# The controller's production dependencies, exactly as locked.
FROM node:${NODE_MAJOR}-bookworm-slim AS controller-deps
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts

# The sidecar imports only pino: keep its locked version and drop every other dependency, so the image stays small.
FROM node:${NODE_MAJOR}-bookworm-slim AS sidecar-deps
WORKDIR /src
COPY package.json package-lock.json ./
RUN node -e 'const fs = require("node:fs"); \
      const lock = JSON.parse(fs.readFileSync("package-lock.json", "utf8")); \
      const pkg = JSON.parse(fs.readFileSync("package.json", "utf8")); \
      pkg.dependencies = { pino: lock.packages["node_modules/pino"].version }; \
      delete pkg.devDependencies; \
      fs.writeFileSync("package.json", JSON.stringify(pkg));' \
 && npm install --omit=dev --no-audit --no-fund --ignore-scripts

FROM gcr.io/distroless/nodejs${NODE_MAJOR}-debian12:nonroot AS controller
WORKDIR /app
# package.json carries "type": "module", which the compiled ES modules need.
COPY --from=build /src/package.json ./
COPY --from=controller-deps /src/node_modules ./node_modules
COPY --from=build /src/dist/api ./dist/api
COPY --from=build /src/dist/controller ./dist/controller
USER 65532:65532
EXPOSE 8443 9443 8080
# The distroless entrypoint is node itself.
CMD ["dist/controller/src/main.js"]

FROM gcr.io/distroless/nodejs${NODE_MAJOR}-debian12:nonroot AS sidecar
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=sidecar-deps /src/node_modules ./node_modules
COPY --from=build /src/dist/api ./dist/api
COPY --from=build /src/dist/sidecar ./dist/sidecar
USER 65532:65532
CMD ["dist/sidecar/src/main.js"]
