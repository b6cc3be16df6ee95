# syntax=docker/dockerfile:1
# Tessera's two images, one target each: `docker build --target controller .` and `docker build --target sidecar .`.
# Multi-stage: TypeScript is compiled in a full Node image; the final images are distroless (no shell, no package
# manager) and run as the non-root user 65532, the UID the chart and the injected sidecar expect.

ARG NODE_MAJOR=24
# Base images: the published ones by default. A build that cannot reach their registry passes stand-ins with the
# same contents (Node.js and npm in the build base; Node.js as the entrypoint, user 65532, in the runtime base), as
# the node tier does with images it makes from the machine's Node.js (docs/development.md, "The node tier").
ARG BUILD_BASE=node:${NODE_MAJOR}-bookworm-slim
ARG RUNTIME_BASE=gcr.io/distroless/nodejs${NODE_MAJOR}-debian12:nonroot

# `npm run build`: compile api/, controller/src and sidecar/src to dist/ (tsc rewrites the .ts import specifiers to
# .js), then bundle the sidecar and its dependencies into the one file dist/sidecar/tessera-sidecar.mjs (esbuild).
FROM ${BUILD_BASE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY api ./api
COPY controller/src ./controller/src
COPY sidecar/src ./sidecar/src
COPY sidecar/bundle.ts ./sidecar/bundle.ts
RUN npm run build

# The controller's production dependencies, exactly as locked.
FROM ${BUILD_BASE} AS controller-deps
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts

FROM ${RUNTIME_BASE} AS controller
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

# The sidecar runs in every opted-in pod, so it ships as one bundled file: no node_modules, no package.json (the
# .mjs extension makes it an ES module). It loads faster and holds less memory than the tsc output with its
# node_modules (docs/sidecar.md, "Resource use"). The licences of the bundled packages travel with it.
FROM ${RUNTIME_BASE} AS sidecar
WORKDIR /app
COPY --from=build /src/dist/sidecar/tessera-sidecar.mjs /src/dist/sidecar/THIRD_PARTY_LICENSES.txt ./
USER 65532:65532
CMD ["tessera-sidecar.mjs"]
