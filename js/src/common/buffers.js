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
 * Little-endian payload -> a typed array of `Ctor` (Float32Array, Uint16Array, ...).
 * Views the memory in place when aligned, copies when misaligned.
 * Trailing bytes that do not make a whole element are ignored.
 * Plain JS arrays of numbers are accepted too (JSON fallback).
 */
function toTyped(buf, Ctor, getter) {
  if (buf instanceof Ctor) return buf;
  if (Array.isArray(buf)) return Ctor.from(buf);
  const b = bytesOf(buf);
  if (!b) return new Ctor(0);
  const size = Ctor.BYTES_PER_ELEMENT;
  const n = Math.floor(b.byteLength / size);
  if (!LITTLE_ENDIAN) {
    const dv = new DataView(b.buffer, b.byteOffset, n * size);
    const out = new Ctor(n);
    for (let i = 0; i < n; i++) out[i] = dv[getter](i * size, true);
    return out;
  }
  if (b.byteOffset % size === 0) return new Ctor(b.buffer, b.byteOffset, n);
  return new Ctor(b.buffer.slice(b.byteOffset, b.byteOffset + n * size));
}

/** Little-endian float32 payload -> Float32Array (see toTyped). */
export const toFloat32 = (buf) => toTyped(buf, Float32Array, "getFloat32");
/** Little-endian uint16 payload -> Uint16Array (quantised frames). */
export const toUint16 = (buf) => toTyped(buf, Uint16Array, "getUint16");
/** Little-endian uint32 payload -> Uint32Array (point indices). */
export const toUint32 = (buf) => toTyped(buf, Uint32Array, "getUint32");

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
