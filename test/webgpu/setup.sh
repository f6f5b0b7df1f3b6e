#!/usr/bin/env bash
# Provides a WebGPU adapter on a machine without a GPU, for test/webgpu: Mesa's lavapipe (Vulkan on
# the CPU) under Dawn, the same WebGPU stack a GPU machine runs. Debian 12's Mesa 22 lavapipe lacks a
# feature Dawn requires (shaderUniform*ArrayDynamicIndexing), so Mesa 25 comes from bookworm-backports.
# Nothing is installed on the system: the packages are downloaded into a cache folder and unpacked
# there, and run.sh points the Vulkan loader at them (VK_ICD_FILENAMES, LD_LIBRARY_PATH).
set -euo pipefail
CACHE="${QAT_LENS_WEBGPU_CACHE:-$HOME/.cache/qat-lens-webgpu}"
ROOT="$CACHE/root"
LIB="$ROOT/usr/lib/x86_64-linux-gnu"
if [ -f "$LIB/libvulkan_lvp.so" ] && [ -f "$CACHE/lvp_icd.json" ]; then echo "webgpu setup ready in $CACHE"; exit 0; fi
[ "$(uname -m)" = x86_64 ] || { echo "test/webgpu/setup.sh: only x86_64 Debian is scripted here" >&2; exit 1; }

rm -rf "$CACHE/apt" "$ROOT"; mkdir -p "$CACHE/apt/lists/partial" "$CACHE/apt/archives/partial" "$ROOT"
# The system's mirror and keyring, with backports added, in a private apt state.
cat > "$CACHE/apt/sources.list" <<LIST
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-backports main
LIST
o=(-o "Dir::Etc::SourceList=$CACHE/apt/sources.list" -o "Dir::Etc::SourceParts=$CACHE/apt/none"
   -o "Dir::State::Lists=$CACHE/apt/lists" -o "Dir::Cache=$CACHE/apt" -o "Dir::Cache::Archives=$CACHE/apt/archives"
   -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root")
apt-get "${o[@]}" -qq update
# Download what lavapipe 25 needs beyond what this machine has (newer libdrm, the Vulkan loader, ...).
apt-get "${o[@]}" -qq -y --download-only -t bookworm-backports install mesa-vulkan-drivers libvulkan1
for f in "$CACHE"/apt/archives/*.deb; do dpkg -x "$f" "$ROOT"; done
[ -f "$LIB/libvulkan_lvp.so" ] || { echo "test/webgpu/setup.sh: lavapipe was not in the downloaded packages" >&2; exit 1; }
cat > "$CACHE/lvp_icd.json" <<JSON
{ "file_format_version": "1.0.0", "ICD": { "library_path": "$LIB/libvulkan_lvp.so", "api_version": "1.3.0" } }
JSON
echo "webgpu setup ready in $CACHE ($(ls "$CACHE"/apt/archives/*.deb | wc -l) packages unpacked)"
