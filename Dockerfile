# syntax=docker/dockerfile:1
# The kube-sli kit image: ghcr.io/kube-sli/kube-sli:<version>, entrypoint `kube-sli`.
# One image for everything the kit runs in pods:
#   kube-sli agent ...       node agent (tcpdump + conntrack; needs NET_ADMIN/NET_RAW, hostNetwork)
#   kube-sli loadgen ...     in-cluster load generator
#   kube-sli-server <port>   backend (src/workload/server.ts)
#   kube-sli-client ...      client (src/workload/client.ts)
# TypeScript ships as source and runs through tsx (a runtime dependency), as bin/kube-sli.js
# does in a checkout. Build with: node scripts/image.mjs build
#
# BASE_IMAGE: any Debian-based image with Node.js >= 20; BUILD_IMAGE: the same with npm
# (the dependencies are installed there and copied over, so npm stays out of the image).
# The embedded lab builds this file with buildah on bases it makes with debootstrap
# (src/lab/images/build.ts), offline from any container registry.
ARG BASE_IMAGE=docker.io/library/node:20-bookworm-slim
ARG BUILD_IMAGE=docker.io/library/node:20-bookworm-slim

# kube-sli-ct-events, the agent's conntrack event reader (src/conntrack/native/ct-events.c):
# built against the same libnetfilter_conntrack the runtime stage installs with conntrack
FROM ${BUILD_IMAGE} AS ct-events
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends gcc libc6-dev libnetfilter-conntrack3 \
 && rm -rf /var/lib/apt/lists/*
COPY src/conntrack/native/ct-events.c /src/
RUN cc -O2 -o /kube-sli-ct-events /src/ct-events.c -l:libnetfilter_conntrack.so.3

FROM ${BUILD_IMAGE} AS deps
# Builds behind a TLS-inspecting proxy pass their CA bundle for npm (the lab passes the
# host's, mounted read-only); an ARG only, so it stays out of the image.
ARG NPM_CONFIG_CAFILE
WORKDIR /opt/kube-sli
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force

FROM ${BASE_IMAGE}
ARG VERSION=0.0.0-dev
LABEL org.opencontainers.image.title="kube-sli" \
      org.opencontainers.image.description="Conformance kit for Kubernetes Service networking: agent, load generator, workload" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"

# the agent's collectors and the network tools of lab/kind nodes
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      conntrack tcpdump iproute2 nftables iptables ca-certificates \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin

WORKDIR /opt/kube-sli
ENV NODE_ENV=production

# dependencies first: this layer is reused while only the sources change
COPY --from=deps /opt/kube-sli/node_modules node_modules/
COPY package.json package-lock.json tsconfig.json ./
COPY bin/ bin/
COPY src/ src/
# `kube-sli compare` renders with reporters/render
COPY reporters/ reporters/

# kube-sli: the CLI (tsx registers itself in bin/kube-sli.js; the symlink resolves to
# /opt/kube-sli/bin, so its imports resolve there). The workload programs need the tsx
# loader by path: `node --import tsx` would resolve tsx from the pod's working directory.
RUN chmod 0755 bin/kube-sli.js \
 && ln -s /opt/kube-sli/bin/kube-sli.js /usr/local/bin/kube-sli \
 && printf '#!/bin/sh\nexec node --import file:///opt/kube-sli/node_modules/tsx/dist/loader.mjs /opt/kube-sli/src/workload/server.ts "$@"\n' \
      > /usr/local/bin/kube-sli-server \
 && printf '#!/bin/sh\nexec node --import file:///opt/kube-sli/node_modules/tsx/dist/loader.mjs /opt/kube-sli/src/workload/client.ts "$@"\n' \
      > /usr/local/bin/kube-sli-client \
 && chmod 0755 /usr/local/bin/kube-sli-server /usr/local/bin/kube-sli-client \
 && test -f node_modules/tsx/dist/loader.mjs \
 && kube-sli version

COPY --from=ct-events /kube-sli-ct-events /usr/local/bin/kube-sli-ct-events
ENV KUBE_SLI_CT_EVENTS_BIN=/usr/local/bin/kube-sli-ct-events

ENTRYPOINT ["kube-sli"]
CMD ["--help"]
