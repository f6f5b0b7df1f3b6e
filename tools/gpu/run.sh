#!/usr/bin/env bash
# The device side of the GPU check: run in the repository root with .device carried (tools/gpu/pack.sh).
#   bash tools/gpu/run.sh        results in $OUT (gpu-check.json, log.txt)
# QAT_LENS_GPU_CHECK_LOCAL=1 leaves / alone (a rehearsal on a machine without a GPU, on lavapipe).
set -euo pipefail
D=.device; W=/tmp/qat-gpu; OUT="${OUT:-/tmp/qat-gpu-out}"
rm -rf "$W"; mkdir -p "$W" "$OUT"
if [ -z "${QAT_LENS_GPU_CHECK_LOCAL:-}" ]; then
  for f in "$D"/debs/*.deb; do dpkg -x "$f" /; done; ldconfig
  icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  [ -f "$icd" ] && export VK_DRIVER_FILES="$icd"
fi
xz -dc "$D/node.xz" > "$W/node"; chmod +x "$W/node"
cp "$D/check.js" "$W/"
mkdir -p "$W/node_modules"; tar -xJf "$D/nm.tar.xz" -C "$W/node_modules"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$W}"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | tee "$OUT/gpu.txt" || true
"$W/node" "$W/check.js" "$OUT/gpu-check.json" "$D/yolov5n_w4a4.onnx" 2>&1 | tee "$OUT/log.txt"
