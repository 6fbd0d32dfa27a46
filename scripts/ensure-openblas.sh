#!/usr/bin/env bash
# Installs OpenBLAS (Debian's libopenblas-dev) and pkg-config when they are missing.
# Sourced by scripts/attend, scripts/test and .ci/run.
if ! pkg-config --exists openblas 2>/dev/null; then
    echo "Installing libopenblas-dev (needed by Attend)…" >&2
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq >&2
    $sudo apt-get install -y -qq libopenblas-dev pkg-config >&2
fi
