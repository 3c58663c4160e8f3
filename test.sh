#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what is missing (Java 17+, Node 24, npm packages),
# fetches the Elasticsearch and S3Mock builds into the cache (checksum-verified), then runs
# typecheck + lint + unit + integration tests (npm test; the tests start the real services themselves)
# and, when ../shared/samples/real exists, the real-sample corpus suite.
set -euo pipefail
umask 022
cd "$(dirname "${BASH_SOURCE[0]}")"
source scripts/bootstrap.sh

log "engine artifacts (Elasticsearch, S3Mock)"
node src/cli/prefetch-engine.ts

log "npm test (typecheck, lint, unit + integration tests)"
npm test

SAMPLES_DIR="../shared/samples/real"
if [ -d "$SAMPLES_DIR" ]; then
  log "sample corpus tests ($SAMPLES_DIR)"
  npm run test:samples
else
  log "sample corpus tests not run: $SAMPLES_DIR is not beside this clone (a separate corpus, not a service)"
fi
