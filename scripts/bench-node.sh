#!/usr/bin/env bash
# `npm run bench` on another Node.js major (issue #18): every process the bench starts (ersatz, its drivers, the cap
# baselines) then runs on that Node, so its ratios compare like with like. cap is a native addon built for one Node
# ABI: the project's copy loads only on the machine's Node, so this builds cap (the lockfile's version) once for the
# other Node, from its own headers, into .cache/, and points the baselines at it (ERSATZ_BENCH_CAP).
# Usage: scripts/bench-node.sh 22|24 [bench arguments: scenarios, --reps N, ...]
set -euo pipefail
cd "$(dirname "$0")/.."
node_dir=$(bash scripts/node-build.sh "${1:-}")
shift
bash scripts/setup.sh # libpcap-dev and a compiler for cap, the build the bench runs
cap_version=$(node -p "require('./package-lock.json').packages['node_modules/cap'].version")
cap_prefix=$(dirname "$(dirname "$node_dir")")/cap-$cap_version
if [ ! -f "$cap_prefix/node_modules/cap/build/Release/cap.node" ]; then
  echo "bench-node: building cap@$cap_version for $("$node_dir/bin/node" --version) into $cap_prefix" >&2
  # npm and node-gyp run on that Node and compile against its headers (npm_config_nodedir, node-gyp's --nodedir):
  # no download from nodejs.org. cap's own dependency (nan, headers only) resolves afresh.
  PATH="$node_dir/bin:$PATH" npm_config_nodedir="$node_dir" npm install --prefix "$cap_prefix" --no-save \
    --no-package-lock --no-audit --no-fund --loglevel=error "cap@$cap_version" >&2
fi
ERSATZ_BENCH_CAP="$cap_prefix/node_modules/cap" PATH="$node_dir/bin:$PATH" node packages/bench/dist/main.js "$@"
