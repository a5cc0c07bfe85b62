#!/usr/bin/env bash
# Installs whatever is missing and builds vmpulse. Idempotent: a second run only checks.
#   scripts/setup.sh          what `npm start` needs (build tools, libvirt-dev, pnpm, deps, build)
#   scripts/setup.sh --test   also what `npm test` needs (libvirtd + QEMU for the real guest)
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
log() { echo "setup: $*"; }

APT_BUILD=(build-essential python3 pkg-config libvirt-dev libvirt0 libisal-dev)
APT_TEST=(libvirt-daemon-system libvirt-daemon-driver-qemu qemu-system-x86 qemu-utils libvirt-clients
          linux-image-cloud-amd64 busybox-static redis-server chromium prometheus-libvirt-exporter openssh-server)

pkgs=("${APT_BUILD[@]}")
[[ ${1:-} == --test ]] && pkgs+=("${APT_TEST[@]}")
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  [[ $(id -u) == 0 ]] || { echo "setup: missing Debian packages ${missing[*]}; run as root or install them" >&2; exit 1; }
  log "apt: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# pnpm 10 (pnpm 11 needs Node 22; corepack's signature check fails offline).
if ! [[ $(pnpm --version 2>/dev/null) == 10.* ]]; then
  log "installing pnpm@10"
  npm install -g pnpm@10 >/dev/null
fi

# Native builds compile against the installed Node headers (no header download).
export npm_config_nodedir=${npm_config_nodedir:-/usr}
pnpm install --frozen-lockfile --prefer-offline --reporter=silent
# The server: rebuilt only when its sources, the Prisma schema or the native addon changed.
if [[ ! -f server/dist/src/main.js ]] || [[ -n $(find server/src server/scripts server/package.json server/tsconfig.json server/tsconfig.build.json \
      prisma/schema.prisma prisma/migrations prisma/patch-client.mjs server/native/build/Release -newer server/dist/src/main.js -not -path 'server/src/generated/*' -print -quit) ]]; then
  pnpm --filter @vmpulse/server build
fi
# The SPA (served from web/dist): rebuilt only when its sources or the schema changed.
if [[ ! -f web/dist/index.html ]] || [[ -n $(find web/src web/index.html web/package.json web/vite.config.ts web/codegen.ts schema.graphql \
      -newer web/dist/index.html -not -path 'web/src/gql/*' -print -quit) ]]; then
  pnpm --filter @vmpulse/web build
fi
log "ready in $(( $(date +%s) - t0 )) s"
