// Decoding of binary payloads coming from the kernel.
//
// ipywidgets hands Python `bytes` traits and custom-message buffers to the
// front end as DataView objects that usually point *into* a larger
// ArrayBuffer (the whole websocket message), so `byteOffset` must be honoured
// and may not be a multiple of 4. Typed arrays need aligned offsets: we view
// the bytes in place when we can and copy only when we must.

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Normalise anything buffer-like to {buffer, byteOffset, byteLength}, or null. */
function bytesOf(buf) {
  if (buf == null) return null;
  if (buf instanceof ArrayBuffer) return { buffer: buf, byteOffset: 0, byteLength: buf.byteLength };
  if (ArrayBuffer.isView(buf)) return { buffer: buf.buffer, byteOffset: buf.byteOffset, byteLength: buf.byteLength };
  // Some hosts wrap buffers: {buffer: DataView} (ipywidgets serialisation).
  if (typeof buf === "object" && buf.buffer && (ArrayBuffer.isView(buf.buffer) || buf.buffer instanceof ArrayBuffer)) {
    return bytesOf(buf.buffer);
  }
  return null;
}

/**
 * Little-endian float32 payload -> Float32Array.
 * Views the memory in place when aligned, copies when misaligned.
 * Trailing bytes that do not make a whole float are ignored.
 * Plain JS arrays of numbers are accepted too (JSON fallback).
 */
export function toFloat32(buf) {
  if (buf instanceof Float32Array) return buf;
  if (Array.isArray(buf)) return Float32Array.from(buf);
  const b = bytesOf(buf);
  if (!b) return new Float32Array(0);
  const n = b.byteLength >> 2;
  if (!LITTLE_ENDIAN) {
    const dv = new DataView(b.buffer, b.byteOffset, n * 4);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = dv.getFloat32(i * 4, true);
    return out;
  }
  if (b.byteOffset % 4 === 0) return new Float32Array(b.buffer, b.byteOffset, n);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + n * 4));
}

/** Little-endian uint16 payload -> Uint16Array (in place when aligned, else a copy). */
export function toUint16(buf) {
  if (buf instanceof Uint16Array) return buf;
  if (Array.isArray(buf)) return Uint16Array.from(buf);
  const b = bytesOf(buf);
  if (!b) return new Uint16Array(0);
  const n = b.byteLength >> 1;
  if (!LITTLE_ENDIAN) {
    const dv = new DataView(b.buffer, b.byteOffset, n * 2);
    const out = new Uint16Array(n);
    for (let i = 0; i < n; i++) out[i] = dv.getUint16(i * 2, true);
    return out;
  }
  if (b.byteOffset % 2 === 0) return new Uint16Array(b.buffer, b.byteOffset, n);
  return new Uint16Array(b.buffer.slice(b.byteOffset, b.byteOffset + n * 2));
}

/** uint8 payload -> Uint8Array view (no alignment constraint, never copies). */
export function toUint8(buf) {
  if (buf instanceof Uint8Array) return buf;
  if (Array.isArray(buf)) return Uint8Array.from(buf);
  const b = bytesOf(buf);
  if (!b) return new Uint8Array(0);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** Byte length of a buffer-like value (0 for empty / unknown). */
export function byteLength(buf) {
  if (Array.isArray(buf)) return buf.length;
  const b = bytesOf(buf);
  return b ? b.byteLength : 0;
}
