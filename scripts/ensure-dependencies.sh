#!/usr/bin/env bash
# Installs what Attend builds against — oneDNN (libdnnl-dev), zlib (zlib1g-dev), Open MPI
# (libopenmpi-dev, openmpi-bin: AttendDistributed) and pkg-config — when missing. Sourced by
# scripts/attend, scripts/test and scripts/benchmark.
if [ ! -f /usr/include/dnnl.h ] || ! pkg-config --exists zlib ompi-c 2>/dev/null || ! command -v mpirun >/dev/null; then
    echo "Installing libdnnl-dev, zlib1g-dev and Open MPI (needed by Attend)…" >&2
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq >&2
    $sudo apt-get install -y -qq libdnnl-dev zlib1g-dev libopenmpi-dev openmpi-bin pkg-config >&2
fi
