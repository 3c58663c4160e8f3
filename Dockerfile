# lora-catalog CLI image: Node 24 runs the TypeScript sources directly (type stripping), no build step.
FROM node:24-slim

WORKDIR /app
ENV NODE_ENV=production

COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

COPY src ./src
COPY jobs ./jobs
COPY kibana ./kibana

# Numeric, so Kubernetes can verify runAsNonRoot; the pods run with a read-only root filesystem and
# HOME/LORA_CATALOG_CACHE_DIR on an emptyDir at /tmp.
USER 10001:10001

# Heap caps keep a long sync flat in memory (live heap is ~50 MB; uncapped, V8 lets garbage grow the heap).
ENTRYPOINT ["node", "--max-old-space-size=256", "--max-semi-space-size=8", "src/cli/main.ts"]
CMD ["--help"]
