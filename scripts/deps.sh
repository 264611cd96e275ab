#!/usr/bin/env bash
# Installs the Debian packages the build and tests need, if any is missing.
set -euo pipefail
packages=(build-essential cmake pkg-config libopenblas-openmp-dev libcriterion-dev zlib1g-dev libpng-dev libjpeg62-turbo-dev
          clang libclang-rt-14-dev libomp-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
