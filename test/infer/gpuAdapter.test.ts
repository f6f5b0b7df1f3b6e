// Software WebGPU adapters (Mesa's llvmpipe/lavapipe, SwiftShader) are told from GPUs by what Dawn
// reports, so that 'auto' never trains or infers on them (they are slower than the CPU paths).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeAdapter, isSoftwareAdapter } from '../../src/core/gpu/webgpu';

test('software adapters are recognised; GPUs are not', () => {
  // As Dawn 0.6.2 reports them (lavapipe seen here; the GPU entries in the same shape).
  const lavapipe = { vendor: 'mesa', architecture: 'software', device: 'llvmpipe-llvm-15-0-6-256-bits-', description: 'llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6) 0.0.1' };
  assert.ok(isSoftwareAdapter(lavapipe));
  assert.ok(isSoftwareAdapter({ ...lavapipe, architecture: '' }), 'by the driver name alone');
  assert.ok(isSoftwareAdapter({ vendor: 'google', architecture: '', device: '', description: 'SwiftShader Device (Subzero)' }));
  assert.ok(isSoftwareAdapter({ vendor: 'nvidia', description: 'x', isFallbackAdapter: true }));
  const h200 = { vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H200' };
  assert.ok(!isSoftwareAdapter(h200));
  assert.ok(!isSoftwareAdapter({ vendor: 'intel', architecture: 'gen-12lp', device: '', description: 'Mesa Intel(R) UHD Graphics 770 (ADL-S GT1)' }));
  assert.equal(describeAdapter(h200), 'nvidia NVIDIA H200');
  assert.equal(describeAdapter(lavapipe), 'mesa llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6) 0.0.1 (software)');
  assert.equal(describeAdapter({}), 'unnamed adapter');
});
