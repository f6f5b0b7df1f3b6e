// The backward of every op family QC trains through, by unit kind (ONNX op type or fused group).
import { activationGrads } from './activations';
import { convGrads } from './conv';
import { elementwiseGrads } from './elementwise';
import { poolGrads } from './pool';
import { qdqGrads } from './qdq';
import { resizeGrads } from './resize';
import { shapeGrads } from './shape';
import type { GradFn } from './types';

export const GRADS: Record<string, GradFn> = {
  ...elementwiseGrads,
  ...activationGrads,
  ...convGrads,
  ...shapeGrads,
  ...poolGrads,
  ...resizeGrads,
  ...qdqGrads,
};
