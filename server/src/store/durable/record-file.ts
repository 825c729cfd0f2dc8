// Record framing shared by the write-ahead log and the snapshot file: each record is
// [u32 payload length][u32 CRC-32 of payload][payload], so a torn or corrupt tail is detectable.
import { crc32 } from 'node:zlib';

export const RECORD_HEADER = 8;
/** Larger lengths are corruption, not data: no single ChangeSet or chunk comes near it. */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;

/** Frame one payload as a record. */
export function encodeRecord(payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(RECORD_HEADER + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.writeUInt32LE(crc32(payload), 4);
  payload.copy(out, RECORD_HEADER);
  return out;
}

export interface DecodedRecords {
  readonly payloads: Buffer[];
  /** Bytes of whole, valid records from the start: where a torn tail begins. */
  readonly validBytes: number;
  /** Whether bytes after `validBytes` were dropped (torn or corrupt). */
  readonly torn: boolean;
}

/** Every valid record from the start of `data`, stopping at the first torn or corrupt one. */
export function decodeRecords(data: Buffer): DecodedRecords {
  const payloads: Buffer[] = [];
  let at = 0;
  while (at + RECORD_HEADER <= data.length) {
    const length = data.readUInt32LE(at);
    const sum = data.readUInt32LE(at + 4);
    const end = at + RECORD_HEADER + length;
    if (length > MAX_RECORD_BYTES || end > data.length) break;
    const payload = data.subarray(at + RECORD_HEADER, end);
    if (crc32(payload) !== sum) break;
    payloads.push(payload);
    at = end;
  }
  return { payloads, validBytes: at, torn: at < data.length };
}
