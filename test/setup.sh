#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine: the real SIP/media peers and
# speech tools (Debian packages), then the npm dependencies from the lock file.
# `--bench` also installs what `npm run bench` needs (tshark).
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(sip-tester kamailio baresip rtpengine-daemon espeak-ng sox ffmpeg openssl iproute2)
# The benchmarks also time packets on the wire with dumpcap/tshark.
if [ "${1:-}" = "--bench" ]; then PKGS+=(tshark); fi
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# rtpengine-daemon's package starts a system service on install; the tests start their own.
if command -v systemctl >/dev/null 2>&1; then systemctl stop rtpengine-daemon 2>/dev/null || true; fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
