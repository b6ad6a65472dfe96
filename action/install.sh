#!/usr/bin/env bash
# Step 1 of action.yml: find or download the ocx binary for this runner; writes ocx-path to
# $GITHUB_OUTPUT. A download is checked against the release's SHA256SUMS.
set -euo pipefail
fail() { echo "::error::ocx action: $*" >&2; exit 1; }

if [[ -n "${INPUT_OCX_PATH:-}" ]]; then
  [[ -x "$INPUT_OCX_PATH" ]] || fail "ocx-path $INPUT_OCX_PATH is not an executable file"
  echo "ocx-path=$INPUT_OCX_PATH" >> "$GITHUB_OUTPUT"
  exit 0
fi

case "${RUNNER_OS:-$(uname -s)}" in
  Linux) os=linux ;;
  macOS | Darwin) os=darwin ;;
  Windows) os=windows ;;
  *) fail "no ocx release for runner OS ${RUNNER_OS:-$(uname -s)}" ;;
esac
case "${RUNNER_ARCH:-$(uname -m)}" in
  X64 | x86_64 | amd64) arch=x64 ;;
  ARM64 | arm64 | aarch64) arch=arm64 ;;
  *) fail "no ocx release for runner architecture ${RUNNER_ARCH:-$(uname -m)}" ;;
esac
[[ "$os" == windows && "$arch" != x64 ]] && fail "no ocx release for Windows on $arch"
libc=""
if [[ "$os" == linux ]] && ldd --version 2>&1 | grep -qi musl; then libc=-musl; fi
name="ocx-$os-$arch$libc"
[[ "$os" == windows ]] && name="$name.exe"

base="${INPUT_RELEASE_URL:-}"
if [[ -z "$base" ]]; then
  [[ -n "${INPUT_OCX_VERSION:-}" && -n "${OCX_ACTION_REPOSITORY:-}" ]] || fail "set ocx-version (a release tag), release-url or ocx-path"
  base="${GITHUB_SERVER_URL:-https://github.com}/$OCX_ACTION_REPOSITORY/releases/download/$INPUT_OCX_VERSION"
fi
base="${base%/}"

dir="${RUNNER_TEMP:?RUNNER_TEMP is not set}/ocx-bin"
mkdir -p "$dir"
curl -fsSL --retry 3 -o "$dir/$name" "$base/$name" || fail "cannot download $base/$name"
curl -fsSL --retry 3 -o "$dir/SHA256SUMS" "$base/SHA256SUMS" || fail "cannot download $base/SHA256SUMS"
want="$(awk -v n="$name" '$2 == n || $2 == "*" n { print $1 }' "$dir/SHA256SUMS")"
[[ -n "$want" ]] || fail "SHA256SUMS has no line for $name"
if command -v sha256sum > /dev/null; then got="$(sha256sum "$dir/$name" | awk '{ print $1 }')"; else got="$(shasum -a 256 "$dir/$name" | awk '{ print $1 }')"; fi
if [[ "$got" != "$want" ]]; then
  rm -f "$dir/$name"
  fail "checksum mismatch for $name (got $got, SHA256SUMS says $want)"
fi
chmod +x "$dir/$name"
echo "ocx-path=$dir/$name" >> "$GITHUB_OUTPUT"
