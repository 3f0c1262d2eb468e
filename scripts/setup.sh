#!/usr/bin/env bash
# Installs what mmfd needs and builds it: Debian's libtorch (CPU) with OpenBLAS-openmp as the system
# BLAS, OpenSlide, the npm dependencies, and the native addon. Safe to re-run; skips what is already there.
# LIBTORCH=/path/to/libtorch builds against another libtorch (e.g. a CUDA build) instead of Debian's.
set -euo pipefail
cd "$(dirname "$0")/.."

# redis-server: the cohort queue (mmfd worker) and its tests; openssl: the TLS test's self-signed certificate;
# chromium: the viewer and report tests and docs screenshots (driven by playwright-core, no browser download).
APT_PACKAGES=(libtorch-dev libopenblas0-openmp libopenslide-dev fonts-dejavu-core redis-server openssl chromium)
MULTIARCH=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
SUDO=$([ "$(id -u)" -eq 0 ] && echo "" || echo sudo)

# With LIBTORCH set, only OpenSlide and the fonts (for text in pictures) come from Debian.
[ -n "${LIBTORCH:-}" ] && APT_PACKAGES=(libopenslide-dev fonts-dejavu-core redis-server openssl chromium)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]} (Debian packages)"
  if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
    echo "setup: cannot install packages as a non-root user without sudo." >&2
    echo "       Install them yourself:  apt-get install ${missing[*]}" >&2
    echo "       or point LIBTORCH at an unpacked libtorch (with include/ and lib/)." >&2
    exit 1
  fi
  if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null; }; then
    echo "setup: apt-get could not install ${missing[*]}." >&2
    echo "       mmfd needs libtorch and OpenSlide: 'apt-get install libtorch-dev libopenblas0-openmp libopenslide-dev' (Debian 12 or newer)," >&2
    echo "       or LIBTORCH=/path/to/libtorch pointing at an unpacked libtorch (with include/ and lib/)." >&2
    exit 1
  fi
fi

# libtorch from Debian calls the system BLAS; the reference BLAS is ~40x slower than OpenBLAS-openmp.
if [ -z "${LIBTORCH:-}" ]; then
  for lib in libblas.so.3 liblapack.so.3; do
    target=/usr/lib/$MULTIARCH/openblas-openmp/$lib
    current=$(readlink -f "/usr/lib/$MULTIARCH/$lib" || true)
    if [ -e "$target" ] && [ "$current" != "$(readlink -f "$target")" ]; then
      echo "setup: selecting OpenBLAS-openmp as $lib"
      $SUDO update-alternatives --set "$lib-$MULTIARCH" "$target"
    fi
  done
fi

# onnxruntime-node's install script would download CUDA files (offline it fails); its CPU binary ships in the package.
export ONNXRUNTIME_NODE_INSTALL=skip
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

echo "setup: building the native addons (libtorch, OpenSlide)${LIBTORCH:+ against $LIBTORCH}"
npm run --silent build:native >/tmp/mmfd-native-build.log 2>&1 || {
  tail -40 /tmp/mmfd-native-build.log >&2
  echo "setup: the native addon failed to build (full log: /tmp/mmfd-native-build.log)" >&2
  exit 1
}
npm run --silent build
node -e "import('./dist/src/torch/index.js').then(t => console.log('setup: ok, libtorch ' + t.libtorch_version() + ', ' + t.get_num_threads() + ' threads, CUDA ' + (t.cuda.is_available() ? 'yes' : 'no')))"
