# syntax=docker/dockerfile:1
# Multi-stage image for the voice engine. Build: docker build -t voice-engine .
# Run:   docker run --network host -v voice-data:/data voice-engine
# (host networking keeps SIP/RTP addresses honest; otherwise publish 5060/udp, 5060/tcp,
#  8080/tcp and the RTP range, and set SIP_ADVERTISED_ADDRESS to the host's public address.)

FROM node:22-bookworm-slim AS deps
WORKDIR /app
# better-sqlite3 builds from source when no prebuilt binary can be fetched.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:22-bookworm-slim AS runtime
# espeak-ng: the offline local TTS voice (run as a separate process; GPL, never linked).
RUN apt-get update \
 && apt-get install -y --no-install-recommends espeak-ng tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system engine && useradd --system --gid engine --home /app engine \
 && mkdir -p /data && chown engine:engine /data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --chown=engine:engine package.json tsconfig.json ./
COPY --chown=engine:engine config ./config
COPY --chown=engine:engine engine ./engine
COPY --chown=engine:engine sip ./sip
COPY --chown=engine:engine media ./media
USER engine
ENV NODE_ENV=production \
    DATA_DIR=/data \
    API_HOST=0.0.0.0 \
    API_PORT=8080 \
    SIP_HOST=0.0.0.0 \
    SIP_PORT=5060 \
    RTP_PORT_MIN=20000 \
    RTP_PORT_MAX=30000
VOLUME ["/data"]
EXPOSE 8080/tcp 5060/udp 5060/tcp 5061/tcp 20000-30000/udp
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--import", "tsx", "engine/main.ts"]
