#!/usr/bin/env bash
# Idempotent set-up for nasc on a fresh Debian machine of this kind (see docs/setup.md).
#
# Installs, each only when missing:
#   * Debian: the Fashion-MNIST dataset package (the embedded default data), neovim (LSP tests) and
#     chromium (the search report's test renders the page in headless Chromium);
#   * a Python virtual environment under ~/.cache/nasc/ holding torch==2.13.0 (the libtorch that tch 0.26
#     requires, and `import torch` for the round-trip tests), z3-solver==5.4.1.0 (libz3) and numpy;
#   * `.deps/` in the clone: links to that libtorch and libz3, read by .cargo/config.toml and build.rs.
# Nothing is downloaded from anywhere but Debian's archive and PyPI.
set -euo pipefail

TORCH_VERSION=2.13.0
Z3_VERSION=5.4.1.0
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${NASC_CACHE:-$HOME/.cache/nasc}
venv="$cache/venv-torch$TORCH_VERSION-z3$Z3_VERSION"
stamp="$venv/.stamp-torch$TORCH_VERSION-z3$Z3_VERSION"
quiet=${NASC_SETUP_QUIET:-}

say() { [[ -n $quiet ]] || echo "setup: $*" >&2; }

apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0
  say "installing Debian packages: ${missing[*]}"
  local sudo=""
  [[ $(id -u) == 0 ]] || sudo="sudo"
  $sudo apt-get update -qq >&2 || true
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2
}

# chromium: tests/it/report.rs opens the search report in headless Chromium (screenshot, DOM, script errors)
apt_install dataset-fashion-mnist neovim chromium

if [[ ! -f $stamp ]]; then
  say "creating $venv (torch $TORCH_VERSION, z3-solver $Z3_VERSION; ~2.6 GB download the first time)"
  mkdir -p "$cache"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip >&2
  "$venv/bin/python" -m pip install -q "torch==$TORCH_VERSION" "z3-solver==$Z3_VERSION" numpy >&2
  touch "$stamp"
fi

site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
mkdir -p "$root/.deps"
ln -sfn "$site/torch" "$root/.deps/torch"
ln -sfn "$site/z3" "$root/.deps/z3"
ln -sfn "$venv" "$root/.deps/venv"
say "ready: libtorch at .deps/torch, libz3 at .deps/z3, python at .deps/venv/bin/python"
