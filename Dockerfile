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

ENTRYPOINT ["node", "src/cli/main.ts"]
CMD ["--help"]
