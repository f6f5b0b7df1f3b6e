#!/usr/bin/env bash
# Packs the GPU check (tools/gpu/check.ts) into .device/ (ignored), to be carried to a GPU machine
# that has no Node and no network (see docs/qc.md, "GPU check"; ../shared/notes/gpu-check.md):
#   node.xz        this machine's Node, stripped (the machine has none)
#   check.js       the check (QC's gradient engine on onnxruntime), bundled; gradShard.js its CPU shards' thread
#   nm.tar.xz      the native packages it loads: onnxruntime-node (CPU and WebGPU engines), webgpu (Dawn,
#                  to name the adapter) and sharp (libvips)
#   debs/          Debian's Vulkan and GL loaders (Dawn finds NVIDIA's ICD through them)
#   yolov5n_w4a4.onnx  a YOLOv5n-sized QDQ model at 320x320 (needs /usr/bin/python3 with torch, onnx)
# 48.7 MB when last run (Node 21.9, native modules 24.3): with the tracked tree (29 MB) OVER the 64 MiB a
# device call may carry; see docs/qc.md, "GPU check", for what to leave out.
set -euo pipefail
cd "$(dirname "$0")/../.."
D=.device
rm -rf "$D"; mkdir -p "$D/debs"
cp "$(command -v node)" "$D/node"; strip "$D/node"; xz -T0 -9 "$D/node"
npx esbuild tools/gpu/check.ts --bundle --platform=node --format=cjs --target=node20 --minify-whitespace --minify-syntax --log-level=warning \
  --external:webgpu --external:sharp --external:onnxruntime-node --outfile="$D/check.js"
# The CPU engine's shard threads (src/core/train/shards.ts) load gradShard.js from beside check.js.
npx esbuild src/core/train/shardThread.ts --bundle --platform=node --format=cjs --target=node20 --minify-whitespace --minify-syntax --log-level=warning \
  --external:onnxruntime-node --outfile="$D/gradShard.js"
tar -cJf "$D/nm.tar.xz" -C node_modules onnxruntime-node/package.json onnxruntime-node/dist onnxruntime-node/lib \
  onnxruntime-node/bin/napi-v6/linux/x64 onnxruntime-common webgpu/package.json webgpu/index.js webgpu/dist/linux-x64 \
  sharp/package.json sharp/dist sharp/lib @img/sharp-linux-x64 @img/sharp-libvips-linux-x64 @img/colour detect-libc semver
o=(-o APT::Architecture=amd64 -o APT::Architectures=amd64 -o Dir::State::Lists=/tmp/qat-gpu-apt/lists -o Dir::Cache=/tmp/qat-gpu-apt)
mkdir -p /tmp/qat-gpu-apt/lists/partial
apt-get "${o[@]}" -qq update
(cd "$D/debs" && apt-get "${o[@]}" -qq download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
/usr/bin/python3 tools/fixtures/qc/make_bench_model.py "$D/yolov5n_w4a4.onnx" --yolov5n
du -sh "$D"; du -sb "$D" | awk '{ printf "%.1f MB to carry\n", $1 / 1e6 }'
