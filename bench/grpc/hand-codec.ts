// A hand-written protobuf codec for the Check hot path only (CheckRequest/CheckBatchRequest in,
// CheckResponse/CheckBatchResponse out), measured against protobufjs to see what a codec that
// knows its messages could save. It produces the same plain shapes the protobufjs decoders do
// (unset fields absent), skips unknown fields, and rejects malformed input with an Error.

type Wire = Record<string, unknown>;

let buf: Buffer = Buffer.alloc(0);
let pos = 0;

function fail(what: string): never {
  throw new Error(`malformed protobuf: ${what} at byte ${pos}`);
}

/** A varint as an unsigned 32-bit number; longer varints (int64) keep their low 32 bits. */
function varint(): number {
  let result = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (pos >= buf.length) fail('truncated varint');
    const b = buf[pos++]!;
    result |= (b & 0x7f) << shift;
    if (b < 0x80) return result >>> 0;
  }
  for (let i = 0; i < 5; i++) {
    if (pos >= buf.length) fail('truncated varint');
    if (buf[pos++]! < 0x80) return result >>> 0;
  }
  return fail('varint longer than 10 bytes');
}

function end(length: number): number {
  const e = pos + length;
  if (e > buf.length) fail('length past the end');
  return e;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Ids are ASCII in practice: short ones are built char by char (cheaper than a native call),
 * longer ones sliced as latin1 once checked ASCII; anything else goes to a strict TextDecoder.
 */
function string(): string {
  const e = end(varint());
  const start = pos;
  pos = e;
  let s = '';
  for (let i = start; i < e; i++) {
    if (buf[i]! >= 0x80) return utf8.decode(buf.subarray(start, e));
  }
  if (e - start > 12) return buf.toString('latin1', start, e);
  for (let i = start; i < e; i++) s += String.fromCharCode(buf[i]!);
  return s;
}

function skip(wireType: number): void {
  switch (wireType) {
    case 0:
      varint();
      return;
    case 1:
      pos = end(8);
      return;
    case 2:
      pos = end(varint());
      return;
    case 5:
      pos = end(4);
      return;
    default:
      fail(`wire type ${wireType}`);
  }
}

function objectRef(limit: number): Wire {
  const m: Wire = {};
  while (pos < limit) {
    const tag = varint();
    if (tag === 10) m.objectType = string();
    else if (tag === 18) m.objectId = string();
    else skip(tag & 7);
  }
  return m;
}

function subjectRef(limit: number): Wire {
  const m: Wire = {};
  while (pos < limit) {
    const tag = varint();
    if (tag === 10) m.object = objectRef(end(varint()));
    else if (tag === 18) m.optionalRelation = string();
    else skip(tag & 7);
  }
  return m;
}

function consistency(limit: number): Wire {
  const m: Wire = {};
  while (pos < limit) {
    const tag = varint();
    if (tag === 8) m.minimizeLatency = varint() !== 0;
    else if (tag === 18) {
      const e = end(varint());
      const token: Wire = {};
      while (pos < e) {
        const t = varint();
        if (t === 10) token.token = string();
        else skip(t & 7);
      }
      m.atLeastAsFresh = token;
    } else if (tag === 24) m.fullyConsistent = varint() !== 0;
    else skip(tag & 7);
  }
  return m;
}

/** CheckRequest (and, by field numbers 2-4, the body of a CheckBatchItem shifted by one). */
export function decodeCheckRequest(bytes: Buffer): Wire {
  buf = bytes;
  pos = 0;
  const m: Wire = {};
  while (pos < buf.length) {
    const tag = varint();
    if (tag === 10) m.consistency = consistency(end(varint()));
    else if (tag === 18) m.resource = objectRef(end(varint()));
    else if (tag === 26) m.permission = string();
    else if (tag === 34) m.subject = subjectRef(end(varint()));
    else skip(tag & 7);
  }
  return m;
}

function batchItem(limit: number): Wire {
  const m: Wire = {};
  while (pos < limit) {
    const tag = varint();
    if (tag === 10) m.resource = objectRef(end(varint()));
    else if (tag === 18) m.permission = string();
    else if (tag === 26) m.subject = subjectRef(end(varint()));
    else skip(tag & 7);
  }
  return m;
}

export function decodeCheckBatchRequest(bytes: Buffer): Wire {
  buf = bytes;
  pos = 0;
  const m: Wire = {};
  const items: Wire[] = [];
  while (pos < buf.length) {
    const tag = varint();
    if (tag === 10) m.consistency = consistency(end(varint()));
    else if (tag === 18) items.push(batchItem(end(varint())));
    else skip(tag & 7);
  }
  m.items = items;
  return m;
}

/** Token strings are ASCII (`GH1.<base36>.<check>`); anything else goes through Buffer. */
function tokenBytes(token: string): Buffer {
  return Buffer.from(token, 'utf8');
}

export function encodeCheckResponse(message: {
  permissionship?: number;
  checkedAt?: { token?: string };
}): Buffer {
  const token = message.checkedAt?.token ?? '';
  const t = tokenBytes(token);
  if (t.length > 125) throw new Error('token longer than this codec handles');
  const p = message.permissionship ?? 0;
  const out = Buffer.allocUnsafe((p === 0 ? 0 : 2) + 2 + (t.length === 0 ? 0 : 2 + t.length));
  let o = 0;
  if (p !== 0) {
    out[o++] = 8;
    out[o++] = p;
  }
  out[o++] = 18;
  out[o++] = t.length === 0 ? 0 : t.length + 2;
  if (t.length > 0) {
    out[o++] = 10;
    out[o++] = t.length;
    t.copy(out, o);
  }
  return out;
}

/** Only decided results (the echo floor and the allowed/denied path); error results are not handled. */
export function encodeCheckBatchResponse(message: {
  results: readonly { permissionship?: number }[];
  checkedAt?: { token?: string };
}): Buffer {
  const t = tokenBytes(message.checkedAt?.token ?? '');
  if (t.length > 125) throw new Error('token longer than this codec handles');
  const n = message.results.length;
  const out = Buffer.allocUnsafe(n * 4 + 2 + (t.length === 0 ? 0 : 2 + t.length));
  let o = 0;
  for (let i = 0; i < n; i++) {
    const p = message.results[i]!.permissionship ?? 0;
    if (p > 127) throw new Error('permissionship out of range');
    out[o++] = 10;
    out[o++] = 2;
    out[o++] = 8;
    out[o++] = p;
  }
  out[o++] = 18;
  out[o++] = t.length === 0 ? 0 : t.length + 2;
  if (t.length > 0) {
    out[o++] = 10;
    out[o++] = t.length;
    t.copy(out, o);
  }
  return out;
}
