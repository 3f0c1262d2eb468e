// Dynamic int8 quantisation of an exported graph, as ONNX Runtime's quantize_dynamic writes it: weights int8,
// symmetric, one scale per output channel; activations quantised to uint8 at run time (DynamicQuantizeLinear,
// one scale and zero point per tensor). MatMul with a weight matrix becomes DynamicQuantizeLinear ->
// MatMulInteger -> Cast -> Mul (x_scale * w_scale), the pattern ONNX Runtime fuses into its DynamicQuantizeMatMul
// kernel. Convolutions stay float32: ONNX Runtime's ConvInteger takes per-tensor weights only, and with them ran
// the student 3x slower than float Conv (src/onnx/README.md). Attention's activation-by-activation products stay
// float32.
import { type Graph, type Initializer, int, type OnnxNode } from './graph.js';

/** Symmetric per-output-channel int8: `channelAxis` of w's dims indexes the channels. */
function quantizeWeight(w: Initializer, channelAxis: number): { q: Int8Array; scales: Float32Array } {
  const data = w.data as Float32Array;
  const channels = w.dims[channelAxis]!;
  const inner = w.dims.slice(channelAxis + 1).reduce((a, b) => a * b, 1);
  const ch = (i: number) => Math.floor(i / inner) % channels;
  const max = new Float32Array(channels);
  for (let i = 0; i < data.length; i++) max[ch(i)] = Math.max(max[ch(i)]!, Math.abs(data[i]!));
  const scales = max.map((m) => (m > 0 ? m / 127 : 1));
  const q = new Int8Array(data.length);
  for (let i = 0; i < data.length; i++) q[i] = Math.max(-127, Math.min(127, Math.round(data[i]! / scales[ch(i)]!)));
  return { q, scales };
}

/** A quantised copy of g (g is not changed). */
export function quantizeDynamic(source: Graph): Graph {
  const g = source.clone();
  const quantised = new Map<string, [string, string, string]>(); // activation -> (q, scale, zero point)
  const activation = (x: string, out: OnnxNode[]): [string, string, string] => {
    let q = quantised.get(x);
    if (q === undefined) {
      const outs = [g.fresh(`${x}_quant`), g.fresh(`${x}_scale`), g.fresh(`${x}_zero_point`)] as [string, string, string];
      out.push({ op: 'DynamicQuantizeLinear', inputs: [x], outputs: outs, attrs: {}, name: g.fresh(`${x}_DynamicQuantizeLinear`) });
      quantised.set(x, outs);
      q = outs;
    }
    return q;
  };
  const rewritten: OnnxNode[] = [];
  for (const node of g.nodes) {
    const w = g.initializers.get(node.inputs[1] ?? '');
    if (!(node.op === 'MatMul' && w !== undefined && w.dtype === 'float32' && w.dims.length === 2)) {
      rewritten.push(node);
      continue;
    }
    const [xq, xs, xz] = activation(node.inputs[0]!, rewritten);
    const { q, scales } = quantizeWeight(w, 1);
    const channels = scales.length;
    const wq = g.init(`${w.name}_quantized`, q, w.dims);
    const wz = g.init(`${w.name}_zero_point`, new Int8Array(channels), [channels]);
    const ws = g.init(`${w.name}_scale`, scales, [channels]);
    const base = node.name;
    const acc = g.fresh(`${base}_int32`);
    rewritten.push({ op: 'MatMulInteger', inputs: [xq, wq, xz, wz], outputs: [acc], attrs: {}, name: g.fresh(`${base}_quant`) });
    const cast = g.fresh(`${base}_float`);
    rewritten.push({ op: 'Cast', inputs: [acc], outputs: [cast], attrs: { to: int(1) }, name: g.fresh(`${base}_cast`) });
    const scale = g.fresh(`${base}_scales`);
    rewritten.push({ op: 'Mul', inputs: [xs, ws], outputs: [scale], attrs: {}, name: g.fresh(`${base}_scales_mul`) });
    rewritten.push({ op: 'Mul', inputs: [cast, scale], outputs: [node.outputs[0]!], attrs: {}, name: g.fresh(`${base}_output_scale_mul`) });
  }
  g.nodes.splice(0, g.nodes.length, ...rewritten);
  // the float weights the rewrite replaced
  const used = new Set(g.nodes.flatMap((n) => n.inputs));
  for (const name of [...g.initializers.keys()]) if (!used.has(name)) g.initializers.delete(name);
  return g;
}
