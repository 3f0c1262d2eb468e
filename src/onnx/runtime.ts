// ONNX Runtime, loaded on demand: onnxruntime-node is an optional dependency, so a machine without it (or
// whose binary does not load) runs everything on libtorch. MMFD_NO_ONNXRUNTIME=1 simulates its absence.
import type * as Ort from 'onnxruntime-node';

export type OrtModule = typeof Ort;

let loaded: Promise<OrtModule | undefined> | undefined;
let failure = '';

/** onnxruntime-node, or undefined when it is not installed or does not load (see ortUnavailableReason). */
export function loadOrt(): Promise<OrtModule | undefined> {
  loaded ??= (async () => {
    if (process.env.MMFD_NO_ONNXRUNTIME === '1') {
      failure = 'MMFD_NO_ONNXRUNTIME=1';
      return undefined;
    }
    try {
      return (await import('onnxruntime-node')) as OrtModule;
    } catch (err) {
      failure = (err as Error).message.split('\n')[0] ?? 'failed to load';
      return undefined;
    }
  })();
  return loaded;
}

/** Why loadOrt() gave undefined ('' before it did). */
export function ortUnavailableReason(): string {
  return failure;
}

export interface SessionOptions {
  /** Intra-op threads; default MMFD_NUM_THREADS, else ONNX Runtime's default (one per core). */
  threads?: number;
  /** Write ONNX Runtime's profile (JSON) under this file prefix. */
  profilePrefix?: string;
  /**
   * Intra-op threads spin between ops (ONNX Runtime's default, true): quicker hand-offs on idle cores; false
   * yields the cores at once: 1.4-3.3x faster on cores other jobs share (bench:infer, `no_spinning`).
   */
  spinning?: boolean;
}

/** A CPU session on the serialised model, graph optimisation level 'all'. */
export async function createSession(ort: OrtModule, model: Uint8Array, o: SessionOptions = {}): Promise<Ort.InferenceSession> {
  const env = Number(process.env.MMFD_NUM_THREADS);
  const threads = o.threads ?? (Number.isInteger(env) && env > 0 ? env : undefined);
  return ort.InferenceSession.create(model, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    ...(threads !== undefined ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {}),
    ...(o.profilePrefix !== undefined ? { enableProfiling: true, profileFilePrefix: o.profilePrefix } : {}),
    ...(o.spinning === false ? { extra: { session: { intra_op: { allow_spinning: '0' } } } } : {}),
  });
}
