#!/usr/bin/env bash
# Runs test/webgpu on lavapipe (unpacked by setup.sh), or on the machine's own adapter when
# QAT_LENS_WEBGPU=system (a GPU machine: see docs/qc.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "${QAT_LENS_WEBGPU:-}" != system ]; then
  CACHE="${QAT_LENS_WEBGPU_CACHE:-$HOME/.cache/qat-lens-webgpu}"
  export VK_ICD_FILENAMES="$CACHE/lvp_icd.json" VK_DRIVER_FILES="$CACHE/lvp_icd.json"
  export LD_LIBRARY_PATH="$CACHE/root/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
# Mesa's WSI warns when there is no runtime dir; give it a private one.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
exec node --import tsx --test --test-concurrency=1 test/webgpu/*.test.ts
