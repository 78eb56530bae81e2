#!/usr/bin/env bash
# Installs the project from the registry alone with npm 10 and with npm 11, each into a fresh copy of
# the tracked files, the way a newcomer does: `npm ci`, then `npm install` on top. Each install must
# succeed and provide the build tools; `npm ci` must change no
# file, and `npm install` neither package.json nor knitwit.json, nor record an install script for
# @fermyon/spin-sdk in package-lock.json, nor change it in any other way than dropping the `libc`
# fields npm 11 writes and npm 10 does not know. Prints how long each install took.
#
#   .ci/npm-versions.sh [MAJOR...]      (default: 10 11)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/npm-versions.XXXXXX")"
trap 'rm -rf "$work"' EXIT

checksums() { sha256sum "$@"; }
spin_sdk_install_script() {
  node -e "process.stdout.write(String(require('./package-lock.json').packages['node_modules/@fermyon/spin-sdk'].hasInstallScript ?? 'none'))"
}
lock_without_libc() {
  node -e "const l = require('./package-lock.json'); for (const p of Object.values(l.packages)) delete p.libc; process.stdout.write(JSON.stringify(l))"
}

versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(10 11)

for v in "${versions[@]}"; do
  dir="$work/npm$v"
  mkdir -p "$dir"
  git -C "$root" ls-files -z | tar -C "$root" --null -T - -cf - | tar -C "$dir" -xf -
  cd "$dir"
  npm_cmd=(npx --yes "npm@$v")
  echo "== npm $("${npm_cmd[@]}" --version) (node $(node --version)) in $dir"
  before="$(checksums package-lock.json knitwit.json package.json)"
  lock_before="$(lock_without_libc)"

  start=$SECONDS
  "${npm_cmd[@]}" ci --no-audit --no-fund
  echo "== npm $v: npm ci took $((SECONDS - start)) s"

  if [ "$(checksums package-lock.json knitwit.json package.json)" != "$before" ]; then
    echo "npm $v: npm ci changed tracked files" >&2
    exit 1
  fi
  for tool in knitwit webpack j2w vitest tsc; do
    [ -x "node_modules/.bin/$tool" ] || { echo "npm $v: node_modules/.bin/$tool is missing" >&2; exit 1; }
  done

  start=$SECONDS
  "${npm_cmd[@]}" install --no-audit --no-fund
  echo "== npm $v: npm install on top took $((SECONDS - start)) s"

  if [ "$(checksums knitwit.json package.json)" != "$(echo "$before" | grep -v package-lock.json)" ]; then
    echo "npm $v: npm install changed knitwit.json or package.json" >&2
    exit 1
  fi
  if [ "$(spin_sdk_install_script)" != none ]; then
    echo "npm $v: npm install recorded an install script for @fermyon/spin-sdk in package-lock.json" >&2
    exit 1
  fi
  if [ "$(lock_without_libc)" != "$lock_before" ]; then
    echo "npm $v: npm install changed package-lock.json beyond its libc fields" >&2
    exit 1
  fi
  cd "$root"
  rm -rf "$dir"
done
echo "== npm ci and npm install work with npm ${versions[*]}"
