#!/usr/bin/env bash
# Installs what Attend builds against — OpenBLAS (libopenblas-dev), zlib (zlib1g-dev) and
# pkg-config — when missing. Sourced by scripts/attend, scripts/test and scripts/benchmark.
if ! pkg-config --exists openblas zlib 2>/dev/null; then
    echo "Installing libopenblas-dev and zlib1g-dev (needed by Attend)…" >&2
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq >&2
    $sudo apt-get install -y -qq libopenblas-dev zlib1g-dev pkg-config >&2
fi
