// `mmfd check-fixture`: rebuilds one reference fixture (../shared/fixtures/README.md) from its
// config.json alone, runs its inputs and compares every stored output with the README's tolerances.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as torch from '../torch/index.js';

type Tensor = torch.Tensor;

export interface Fixture {
  dir: string;
  config: Record<string, unknown>;
  /** weights.safetensors in state_dict order (empty when the folder has none). */
  weights: Map<string, Tensor>;
  /** On `device` (the CPU unless checkFixture was asked for another). */
  inputs: Map<string, Tensor>;
  outputs: Map<string, Tensor>;
  /** Where the kind runs its network; outputs are compared on the CPU. */
  device: torch.Device;
}

/** A comparison rule: the largest |produced - reference| allowed for a reference tensor. */
export interface Tolerance {
  describe: string;
  limit(ref: Tensor): number;
}

export interface ExtraCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface KindResult {
  /** Produced tensors by the fixture's output names (more may be produced than stored). */
  outputs: Map<string, Tensor>;
  /** Checks that are not tensor comparisons (key sets, trainable names, ...). */
  checks?: ExtraCheck[];
  /** Overrides the default rule for some outputs. */
  tolerance?: (name: string) => Tolerance | undefined;
}

export type KindRunner = (fixture: Fixture) => KindResult | Promise<KindResult>;

/** The fixture kinds mmfd can rebuild, each in its own file under src/parity/. */
const KINDS: Record<string, () => Promise<{ run: KindRunner }>> = {};
/** The kinds that run on any device (the others are CPU-only: parsers, metrics, checkpoint files). */
const ANY_DEVICE = new Set<string>();

export function registerKind(kind: string, load: () => Promise<{ run: KindRunner }>, options: { anyDevice?: boolean } = {}): void {
  KINDS[kind] = load;
  if (options.anyDevice) ANY_DEVICE.add(kind);
}

export function knownKinds(): string[] {
  return Object.keys(KINDS).sort();
}

const maxAbs = (t: Tensor): number => torch.tidy(() => (t.numel() ? t.abs().max().item() : 0));

/** README: network tensors max|a - ref| <= 1e-4 * max(1, max|ref|). */
export const NETWORK: Tolerance = { describe: '1e-4*max(1,|ref|)', limit: (ref) => 1e-4 * Math.max(1, maxAbs(ref)) };
/** README: loss values within relative 1e-5. */
export const LOSS: Tolerance = { describe: '1e-5*|ref| (relative)', limit: (ref) => 1e-5 * maxAbs(ref) };
/** README: gradients max|a - ref| <= 1e-4 * max|ref|. */
export const GRAD: Tolerance = { describe: '1e-4*max|ref|', limit: (ref) => 1e-4 * maxAbs(ref) };
export const EXACT: Tolerance = { describe: 'exact', limit: () => 0 };
export const absolute = (v: number): Tolerance => ({ describe: `${v} absolute`, limit: () => v });

function defaultTolerance(name: string, ref: Tensor): Tolerance {
  if (!ref.dtype.startsWith('float')) return EXACT;
  if (name.startsWith('loss')) return LOSS;
  if (name.startsWith('grad.')) return GRAD;
  return NETWORK;
}

export interface Line {
  name: string;
  diff: number;
  tolerance: string;
  ok: boolean;
  note?: string;
}

/** max |a - b| with NaN positions required to agree (a NaN mismatch is an infinite difference). */
export function maxDiff(a: Tensor, b: Tensor): number {
  return torch.tidy(() => {
    const x = a.double();
    const y = b.double();
    const nanX = x.isnan();
    const nanY = y.isnan();
    if (nanX.ne(nanY).any().item()) return Number.POSITIVE_INFINITY;
    const d = x.sub(y).abs().masked_fill(nanX, 0);
    return d.numel() ? d.max().item() : 0;
  });
}

const onCpu = (t: Tensor | undefined): Tensor | undefined => (t === undefined || t.device === 'cpu' ? t : t.to('cpu'));

function loadTensors(file: string): Map<string, Tensor> {
  return existsSync(file) ? torch.io.load_safetensors(file).tensors : new Map();
}

function readConfig(dir: string): Record<string, unknown> {
  const cfgFile = join(dir, 'config.json');
  if (!existsSync(cfgFile)) throw new Error(`${dir}: not a fixture folder (no config.json)`);
  return JSON.parse(readFileSync(cfgFile, 'utf8')) as Record<string, unknown>;
}

export function loadFixture(dir: string, device: torch.Device = 'cpu'): Fixture {
  const config = readConfig(dir);
  const inputs = loadTensors(join(dir, 'inputs.safetensors'));
  if (device !== 'cpu') {
    for (const [k, t] of inputs) {
      inputs.set(k, t.to(device));
      t.dispose();
    }
  }
  return {
    dir,
    config,
    weights: loadTensors(join(dir, 'weights.safetensors')),
    inputs,
    outputs: loadTensors(join(dir, 'outputs.safetensors')),
    device,
  };
}

/** Checks one fixture folder: one line per stored output (and per extra check); ok if all pass.
 *  `device` runs the network there (a CUDA build's numerics against the reference's CPU outputs). */
export async function checkFixture(dir: string, device: torch.Device = 'cpu'): Promise<{ kind: string; lines: Line[]; ok: boolean }> {
  const kind = String(readConfig(dir).fixture ?? '');
  const load = KINDS[kind];
  if (load === undefined) {
    throw new Error(`${join(dir, 'config.json')}: fixture kind '${kind}' is not supported (known: ${knownKinds().join(', ')})`);
  }
  if (device !== 'cpu' && !ANY_DEVICE.has(kind)) {
    throw new Error(`${dir}: fixture kind '${kind}' runs on the CPU only (on other devices: ${[...ANY_DEVICE].sort().join(', ')})`);
  }
  // The references are float32 CPU results; TF32 (libtorch's default for cuDNN convolutions) is ~1e-3 off.
  if (device !== 'cpu') torch.cuda.allow_tf32(false);
  const fixture = loadFixture(dir, device);
  const result = await (await load()).run(fixture);
  const lines: Line[] = [];
  for (const [name, ref] of fixture.outputs) {
    const raw = result.outputs.get(name);
    const produced = onCpu(raw);
    const tol = result.tolerance?.(name) ?? defaultTolerance(name, ref);
    if (produced === undefined) {
      lines.push({ name, diff: Number.NaN, tolerance: tol.describe, ok: false, note: 'not produced' });
      continue;
    }
    const sa = produced.shape;
    const sb = ref.shape;
    if (sa.length !== sb.length || sa.some((d, i) => d !== sb[i])) {
      lines.push({ name, diff: Number.NaN, tolerance: tol.describe, ok: false, note: `shape [${sa}] vs reference [${sb}]` });
      continue;
    }
    const diff = maxDiff(produced, ref);
    if (produced !== raw) produced.dispose();
    const limit = tol.limit(ref);
    lines.push({ name, diff, tolerance: `${tol.describe} = ${limit.toExponential(2)}`, ok: diff <= limit });
  }
  for (const c of result.checks ?? []) lines.push({ name: c.name, diff: Number.NaN, tolerance: '-', ok: c.ok, note: c.detail });
  torch.dispose([result.outputs, fixture.weights, fixture.inputs, fixture.outputs]);
  return { kind, lines, ok: lines.length > 0 && lines.every((l) => l.ok) };
}
