// An ONNX graph under construction: named values, nodes in topological order and initializers, then
// serialised with protobufjs (proto.ts). The emitters (student.ts, nn.ts) add nodes as the modules'
// forward passes run their ops; the quantiser (quantize.ts) rewrites nodes before serialisation.
import { ATTRIBUTE_TYPE, DATA_TYPE, modelProto, type OnnxDType } from './proto.js';

export type InitData = Float32Array | Int8Array | Uint8Array | Int32Array | BigInt64Array;

export interface Initializer {
  name: string;
  dtype: OnnxDType;
  dims: number[];
  data: InitData;
}

/** A tagged attribute value (ONNX distinguishes int from float, which JS numbers cannot). */
export type Attr = { i: number } | { f: number } | { ints: readonly number[] } | { floats: readonly number[] } | { s: string };
export const int = (i: number): Attr => ({ i });
export const float = (f: number): Attr => ({ f });
export const ints = (v: readonly number[]): Attr => ({ ints: v });
export const str = (s: string): Attr => ({ s });

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, Attr>;
  domain?: string;
  name: string;
}

/** A graph input or output: its element type and dims (a string is a symbolic dim, e.g. 'batch'). */
export interface ValueInfo {
  name: string;
  dtype: OnnxDType;
  dims: (number | string)[];
}

const DTYPE_OF: Record<string, OnnxDType> = {
  Float32Array: 'float32',
  Int8Array: 'int8',
  Uint8Array: 'uint8',
  Int32Array: 'int32',
  BigInt64Array: 'int64',
};

export const OPSET = 17;

export class Graph {
  readonly nodes: OnnxNode[] = [];
  readonly initializers = new Map<string, Initializer>();
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  readonly #used = new Set<string>();
  readonly #constants = new Map<string, string>();

  /** A copy whose node list and initializer map can be rewritten (initializer data is shared). */
  clone(): Graph {
    const g = new Graph();
    g.nodes.push(...this.nodes.map((n) => ({ ...n, inputs: [...n.inputs], outputs: [...n.outputs] })));
    for (const [k, v] of this.initializers) g.initializers.set(k, v);
    g.inputs.push(...this.inputs);
    g.outputs.push(...this.outputs);
    for (const name of this.#used) g.#used.add(name);
    for (const [k, v] of this.#constants) g.#constants.set(k, v);
    return g;
  }

  /** A name not used yet, from `hint`. */
  fresh(hint: string): string {
    let name = hint;
    for (let i = 1; this.#used.has(name); i++) name = `${hint}_${i}`;
    this.#used.add(name);
    return name;
  }

  input(name: string, dtype: OnnxDType, dims: (number | string)[]): string {
    this.#used.add(name);
    this.inputs.push({ name, dtype, dims });
    return name;
  }

  /** Declares `value` a graph output named `name` (through an Identity when the names differ). */
  output(value: string, name: string, dtype: OnnxDType, dims: (number | string)[]): void {
    if (value !== name)
      this.nodes.push({ op: 'Identity', inputs: [value], outputs: [name], attrs: {}, name: this.fresh(`${name}_identity`) });
    this.#used.add(name);
    this.outputs.push({ name, dtype, dims });
  }

  /** An initializer holding `data` with the given dims. */
  init(hint: string, data: InitData, dims: readonly number[]): string {
    const n = dims.reduce((a, b) => a * b, 1);
    if (n !== data.length) throw new RangeError(`onnx initializer ${hint}: ${data.length} values for dims [${dims.join(', ')}]`);
    const dtype = DTYPE_OF[data.constructor.name];
    if (dtype === undefined) throw new TypeError(`onnx initializer ${hint}: unsupported ${data.constructor.name}`);
    const name = this.fresh(hint);
    this.initializers.set(name, { name, dtype, dims: [...dims], data });
    return name;
  }

  /** A shared int64 constant (shapes, axes, pads). */
  i64(values: readonly number[]): string {
    return this.#shared(`i64:${values.join(',')}`, () => this.init('const_i64', BigInt64Array.from(values.map(BigInt)), [values.length]));
  }

  /** A shared float32 scalar constant. */
  scalar(value: number): string {
    return this.#shared(`f32:${value}`, () => this.init('const_f32', Float32Array.of(value), []));
  }

  #shared(key: string, make: () => string): string {
    let name = this.#constants.get(key);
    if (name === undefined) {
      name = make();
      this.#constants.set(key, name);
    }
    return name;
  }

  /** Adds a node with `outputs` results; returns their names. */
  opN(op: string, inputs: string[], attrs: Record<string, Attr> = {}, outputs = 1, domain?: string): string[] {
    const name = this.fresh(op);
    const outs = Array.from({ length: outputs }, (_, i) => this.fresh(`${name}_out${i}`));
    this.nodes.push({ op, inputs, outputs: outs, attrs, name, ...(domain !== undefined ? { domain } : {}) });
    return outs;
  }

  /** Adds a single-output node; returns its output's name. */
  op(op: string, inputs: string[], attrs: Record<string, Attr> = {}): string {
    return this.opN(op, inputs, attrs, 1)[0]!;
  }

  /** The serialised ModelProto. */
  encode(o: { producerVersion: string; metadata?: Record<string, string>; docString?: string }): Uint8Array {
    const type = modelProto();
    const valueInfo = (v: ValueInfo) => ({
      name: v.name,
      type: {
        tensor_type: {
          elem_type: DATA_TYPE[v.dtype],
          shape: { dim: v.dims.map((d) => (typeof d === 'string' ? { dim_param: d } : { dim_value: d })) },
        },
      },
    });
    const attribute = (name: string, a: Attr) => {
      if ('i' in a) return { name, type: ATTRIBUTE_TYPE.i, i: a.i };
      if ('f' in a) return { name, type: ATTRIBUTE_TYPE.f, f: a.f };
      if ('ints' in a) return { name, type: ATTRIBUTE_TYPE.ints, ints: [...a.ints] };
      if ('floats' in a) return { name, type: ATTRIBUTE_TYPE.floats, floats: [...a.floats] };
      return { name, type: ATTRIBUTE_TYPE.s, s: new TextEncoder().encode(a.s) };
    };
    const domains = new Set(this.nodes.map((n) => n.domain).filter((d): d is string => d !== undefined && d !== ''));
    const model = {
      ir_version: 8,
      opset_import: [{ domain: '', version: OPSET }, ...[...domains].map((domain) => ({ domain, version: 1 }))],
      producer_name: 'mmfd',
      producer_version: o.producerVersion,
      ...(o.docString !== undefined ? { doc_string: o.docString } : {}),
      graph: {
        name: 'mmfd',
        node: this.nodes.map((n) => ({
          input: n.inputs,
          output: n.outputs,
          name: n.name,
          op_type: n.op,
          ...(n.domain !== undefined ? { domain: n.domain } : {}),
          attribute: Object.entries(n.attrs).map(([k, a]) => attribute(k, a)),
        })),
        initializer: [...this.initializers.values()].map((t) => ({
          name: t.name,
          dims: t.dims,
          data_type: DATA_TYPE[t.dtype],
          raw_data: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength),
        })),
        input: this.inputs.map(valueInfo),
        output: this.outputs.map(valueInfo),
      },
      metadata_props: Object.entries(o.metadata ?? {}).map(([key, value]) => ({ key, value })),
    };
    return type.encode(type.fromObject(model)).finish();
  }
}
