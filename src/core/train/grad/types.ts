// What an op family's backward sees: the unit it differentiates (one ONNX node, or a fused group such
// as a fake-quant chain or SiLU), the gradients of its outputs, and the backward graph being written.
import type { FakeQuantChain } from '../../infer/qdqToFloat';
import type { onnx } from '../../onnx/proto';
import type { GraphBuilder } from '../builder';

export interface Unit {
  /** ONNX op type, or 'FakeQuant' / 'SiLU' for fused groups. */
  kind: string;
  /** The (first) node, for attributes and error messages. */
  node: onnx.INodeProto;
  inputs: string[];
  outputs: string[];
  chain?: FakeQuantChain;
  /** SiLU: the Sigmoid's output. */
  sigmoid?: string;
}

export interface Const {
  dims: number[];
  data: Float32Array;
}

export interface GradCtx {
  b: GraphBuilder;
  file: string;
  /** Writing for a GPU engine: avoid ops its kernels lack (MaxPool's Indices output). */
  gpu: boolean;
  /** Shape of a forward value at the probe batch (see shapes.ts). */
  shape(value: string): number[];
  /** Values of an initializer (float), or undefined when the value is computed. */
  constant(value: string): Const | undefined;
  /** Integer values of a constant input (axes, pads, sizes); throws naming the node when computed. */
  ints(value: string, unit: Unit): number[];
  /** Does the value depend on γ/β (so it needs a gradient)? */
  active(value: string): boolean;
  /** A zero tensor shaped like a forward value. */
  zerosLike(value: string): string;
  /** Have the forward MaxPool node also write its argmax indices; returns their name. */
  indicesOf(node: onnx.INodeProto): string;
}

/** Gradients of the unit's inputs (undefined where not needed), given its outputs' gradients. */
export type GradFn = (u: Unit, dy: (string | undefined)[], ctx: GradCtx) => (string | undefined)[];

/** Node label for messages: its name, or its op type and first output. */
export const nodeLabel = (n: onnx.INodeProto): string => `${n.opType} '${n.name || n.output?.[0]}'`;
