#!/usr/bin/env bash
# Installs what is missing (Java 17+, Node 24, npm packages), then runs the main job on the embedded
# default: a full sync of the bundled example runs into a local Elasticsearch that the tool fetches
# (once, checksum-verified, cached), starts and stops; prints the summary and one example search.
set -euo pipefail
umask 022
cd "$(dirname "${BASH_SOURCE[0]}")"
source scripts/bootstrap.sh >&2

node --max-old-space-size=256 --max-semi-space-size=8 src/cli/main.ts sync --example "$@"

cat >&2 <<NEXT

Next, in any shell (the local engine stays up for 30m unused; bin/lora-catalog es stop stops it now):
  bin/lora-catalog search 'cyberpunk loss<0.05'
  bin/lora-catalog show <run_id>
NEXT
