/**
 * Request bodies in Kubernetes protobuf (`application/vnd.kubernetes.protobuf`), which kubectl's typed clients
 * send for `kubectl create secret|configmap|namespace`: the `k8s\0` envelope (runtime.Unknown) and the few kinds
 * those commands create. Field numbers are those of k8s.io/api's generated.proto (checked against kubectl 1.32's
 * bodies). Responses stay JSON: clients decode by the response's Content-Type.
 */
import type { Json, Obj } from './status.js';

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

type Field = { n: number; wire: number; varint?: bigint; bytes?: Buffer };

function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let i = 0;
  const varint = (): bigint => {
    let r = 0n;
    let s = 0n;
    for (;;) {
      if (i >= buf.length) throw new Error('truncated varint');
      const b = buf[i++]!;
      r |= BigInt(b & 0x7f) << s;
      s += 7n;
      if (!(b & 0x80)) return r;
    }
  };
  while (i < buf.length) {
    const tag = Number(varint());
    const n = tag >>> 3;
    const wire = tag & 7;
    if (wire === 0) out.push({ n, wire, varint: varint() });
    else if (wire === 2) {
      const len = Number(varint());
      if (i + len > buf.length) throw new Error('truncated field');
      out.push({ n, wire, bytes: buf.subarray(i, i + len) });
      i += len;
    } else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

const str = (f: Field | undefined) => (f?.bytes ? f.bytes.toString('utf8') : undefined);

function map(fs: Field[], n: number, value: (b: Buffer) => Json): Obj | undefined {
  const entries = fs.filter((f) => f.n === n && f.bytes);
  if (!entries.length) return undefined;
  const out: Obj = {};
  for (const e of entries) {
    const kv = fields(e.bytes!);
    out[str(kv.find((f) => f.n === 1)) ?? ''] = value(kv.find((f) => f.n === 2)?.bytes ?? Buffer.alloc(0));
  }
  return out;
}

function objectMeta(buf: Buffer): Obj {
  const fs = fields(buf);
  const m: Obj = {};
  const s = (n: number, k: string) => {
    const v = str(fs.find((f) => f.n === n));
    if (v) m[k] = v;
  };
  s(1, 'name');
  s(2, 'generateName');
  s(3, 'namespace');
  s(5, 'uid');
  s(6, 'resourceVersion');
  const labels = map(fs, 11, (b) => b.toString('utf8'));
  if (labels) m.labels = labels;
  const annotations = map(fs, 12, (b) => b.toString('utf8'));
  if (annotations) m.annotations = annotations;
  const finalizers = fs.filter((f) => f.n === 14).map((f) => str(f)!);
  if (finalizers.length) m.finalizers = finalizers;
  return m;
}

const base64 = (b: Buffer) => b.toString('base64');
const utf8 = (b: Buffer) => b.toString('utf8');

const KINDS: Record<string, (fs: Field[], o: Obj) => void> = {
  Secret(fs, o) {
    const data = map(fs, 2, base64);
    if (data) o.data = data;
    const type = str(fs.find((f) => f.n === 3));
    if (type) o.type = type;
    const stringData = map(fs, 4, utf8);
    if (stringData) o.stringData = stringData;
    if (fs.find((f) => f.n === 5)?.varint) o.immutable = true;
  },
  ConfigMap(fs, o) {
    const data = map(fs, 2, utf8);
    if (data) o.data = data;
    const bin = map(fs, 3, base64);
    if (bin) o.binaryData = bin;
    if (fs.find((f) => f.n === 4)?.varint) o.immutable = true;
  },
  Namespace(fs, o) {
    const spec = fs.find((f) => f.n === 2)?.bytes;
    const finalizers = spec ? fields(spec).filter((f) => f.n === 1).map((f) => str(f)!) : [];
    if (finalizers.length) o.spec = { finalizers };
  },
};

/** The kinds whose protobuf bodies this server reads. */
export const PROTOBUF_KINDS = Object.keys(KINDS);

/** Decodes a protobuf request body into the JSON object it stands for; throws on anything it cannot read. */
export function decodeProtobuf(body: Buffer): Obj {
  if (!body.subarray(0, 4).equals(MAGIC)) throw new Error('provided object is not a Kubernetes protobuf (no k8s\\0 prefix)');
  const unknown = fields(body.subarray(4));
  const typeMeta = fields(unknown.find((f) => f.n === 1)?.bytes ?? Buffer.alloc(0));
  const apiVersion = str(typeMeta.find((f) => f.n === 1)) ?? '';
  const kind = str(typeMeta.find((f) => f.n === 2)) ?? '';
  const decode = KINDS[kind];
  if (apiVersion !== 'v1' || !decode) throw new Error(`${apiVersion} ${kind} is not a kind this test server reads as protobuf`);
  const fs = fields(unknown.find((f) => f.n === 2)?.bytes ?? Buffer.alloc(0));
  const o: Obj = { apiVersion, kind, metadata: objectMeta(fs.find((f) => f.n === 1)?.bytes ?? Buffer.alloc(0)) };
  decode(fs, o);
  return o;
}
