#!/usr/bin/env bash
# Builds the prebuilt addons shipped inside the @memshed/native package (prebuilds/<platform>-<arch>/,
# found at run time by node-gyp-build): linux-x64 with the machine's g++, linux-arm64 with Debian's
# cross compiler (apt-get install g++-aarch64-linux-gnu). One N-API build per architecture serves
# every Node line. Run by `npm pack`/`npm publish` (prepack), or by hand:
# `npm run build:prebuilds -w @memshed/native`. MEMSHED_PREBUILD_ARCHS="x64 arm64" (the default)
# chooses the architectures. The local build/ (the developer's, used by the tests) is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."
here=$PWD
archs=${MEMSHED_PREBUILD_ARCHS:-x64 arm64}
# Resolved from the package, so that the copy compiled below finds them too.
addon_api=$(dirname "$(dirname "$(node -p "require.resolve('node-addon-api/package.json')")")")
node_gyp=$(node -p "require.resolve('node-gyp/bin/node-gyp.js')")
prebuildify=$(node -p "require.resolve('prebuildify/bin.js')")
# The headers of the node running this (node-gyp downloads them otherwise): N-API builds do not
# depend on the Node version they were compiled against.
nodedir=${npm_config_nodedir:-$(node -p "require('path').resolve(process.execPath, '../..')")}
if [ ! -f "$nodedir/include/node/node_api.h" ]; then
  echo "prebuild: no Node headers at $nodedir/include/node: set npm_config_nodedir" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r binding.gyp addon package.json "$work"/
rm -rf prebuilds
for arch in $archs; do
  case $arch in
    x64) cross=x86_64-linux-gnu ;;
    arm64) cross=aarch64-linux-gnu ;;
    *) echo "prebuild: unsupported architecture '$arch' (x64, arm64)" >&2; exit 2 ;;
  esac
  if [ "$arch" = "$(node -p process.arch)" ]; then
    cc=${CC:-gcc} cxx=${CXX:-g++} strip=strip
  else
    cc=$cross-gcc cxx=$cross-g++ strip=$cross-strip
  fi
  if ! command -v "$cxx" >/dev/null; then
    echo "prebuild: no C++ compiler for linux-$arch ($cxx): apt-get install g++-$cross" >&2
    exit 1
  fi
  echo "prebuild: linux-$arch with $cxx" >&2
  log=$work/build-$arch.log
  if ! (cd "$work" && rm -rf build && CC=$cc CXX=$cxx NODE_PATH=$addon_api npm_config_nodedir=$nodedir PREBUILD_STRIP_BIN=$strip \
    PREBUILD_NODE_GYP=$node_gyp node "$prebuildify" --napi --strip --tag-libc --arch "$arch" \
    --target "$(node -p process.versions.node)" \
    --platform linux --out "$here") >"$log" 2>&1; then
    cat "$log" >&2
    echo "prebuild: linux-$arch failed (output above)" >&2
    exit 1
  fi
done
for file in prebuilds/*/*.node; do echo "prebuild: $file ($(stat -c %s "$file") bytes)" >&2; done
