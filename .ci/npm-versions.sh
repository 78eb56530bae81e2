#!/usr/bin/env bash
# Installs the project from the registry alone with npm 10 and with npm 11, each into a fresh copy of
# the tracked files, the way a newcomer does: `npm ci`, then `npm install` on top. Each install must
# succeed, build better-sqlite3's native addon, provide the build tools, and leave package-lock.json
# and knitwit.json untouched. Prints how long each `npm ci` took.
#
#   .ci/npm-versions.sh [MAJOR...]      (default: 10 11)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/npm-versions.XXXXXX")"
trap 'rm -rf "$work"' EXIT

checksums() { sha256sum package-lock.json knitwit.json package.json; }

versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(10 11)

for v in "${versions[@]}"; do
  dir="$work/npm$v"
  mkdir -p "$dir"
  git -C "$root" ls-files -z | tar -C "$root" --null -T - -cf - | tar -C "$dir" -xf -
  cd "$dir"
  npm_cmd=(npx --yes "npm@$v")
  echo "== npm $("${npm_cmd[@]}" --version) (node $(node --version)) in $dir"
  before="$(checksums)"

  start=$SECONDS
  "${npm_cmd[@]}" ci --no-audit --no-fund
  echo "== npm $v: npm ci took $((SECONDS - start)) s"

  node -e "new (require('better-sqlite3'))(':memory:').close()"
  for tool in knitwit webpack j2w vitest tsc; do
    [ -x "node_modules/.bin/$tool" ] || { echo "npm $v: node_modules/.bin/$tool is missing" >&2; exit 1; }
  done

  start=$SECONDS
  "${npm_cmd[@]}" install --no-audit --no-fund
  echo "== npm $v: npm install on top took $((SECONDS - start)) s"

  if [ "$(checksums)" != "$before" ]; then
    echo "npm $v changed tracked files:" >&2
    diff <(echo "$before") <(checksums) >&2 || true
    exit 1
  fi
  cd "$root"
  rm -rf "$dir"
done
echo "== npm ci and npm install work with npm ${versions[*]}"
