#!/usr/bin/env bash
# One set-up step shared by `npm run demo`, `npm test` and `npm run bench`: system packages, npm packages, build.
# Idempotent and quiet when everything is already in place.
set -euo pipefail
cd "$(dirname "$0")/.."

# libpcap-dev: `cap` builds against it and loads the unversioned libpcap.so (immediate mode).
# iproute2: the namespace labs. tcpdump, arping, arp-scan, ping, ndisc6: the reference peers in tests and benchmarks.
# zsh, fish, groff: the tests load the completion scripts in each shell and render the man page.
need=(libpcap-dev iproute2 tcpdump iputils-arping arp-scan iputils-ping ndisc6 build-essential python3 zsh fish groff-base)
missing=()
for pkg in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  if [ "$(id -u)" -ne 0 ]; then echo "setup: need root to apt-get install ${missing[*]}" >&2; exit 2; fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm ci when node_modules is missing or older than the lockfile.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi

export TURBO_TELEMETRY_DISABLED=1 TURBO_NO_UPDATE_NOTIFIER=1
npm run --silent build >&2
