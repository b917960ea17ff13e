import { describe, expect, it } from "vitest";
import { byteLength, toFloat32, toUint8 } from "../src/common/buffers.js";

const f32bytes = (values) => new Uint8Array(new Float32Array(values).buffer);

describe("toFloat32", () => {
  it("views an aligned DataView in place (no copy)", () => {
    const buf = new ArrayBuffer(4 + 16);
    new Float32Array(buf, 4, 4).set([1, 2, 3, 4]);
    const dv = new DataView(buf, 4, 16);
    const out = toFloat32(dv);
    expect(Array.from(out)).toEqual([1, 2, 3, 4]);
    expect(out.buffer).toBe(buf); // same memory
    expect(out.byteOffset).toBe(4);
  });

  it("honours an odd byteOffset by copying", () => {
    const bytes = f32bytes([1.5, -2.25, 3e-5, 1e6]);
    const buf = new ArrayBuffer(3 + bytes.length + 5);
    new Uint8Array(buf).fill(0xee);
    new Uint8Array(buf, 3, bytes.length).set(bytes);
    const dv = new DataView(buf, 3, bytes.length);
    const out = toFloat32(dv);
    expect(Array.from(out)).toEqual(Array.from(new Float32Array([1.5, -2.25, 3e-5, 1e6])));
    expect(out.buffer).not.toBe(buf); // copied
    expect(out.length).toBe(4);
  });

  it("does not read past the DataView's end", () => {
    const buf = new ArrayBuffer(32);
    new Float32Array(buf).set([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(Array.from(toFloat32(new DataView(buf, 8, 8)))).toEqual([3, 4]);
  });

  it("ignores trailing bytes that do not form a float", () => {
    const buf = new ArrayBuffer(10);
    new Float32Array(buf, 0, 2).set([7, 8]);
    expect(Array.from(toFloat32(new DataView(buf)))).toEqual([7, 8]);
  });

  it("accepts ArrayBuffer, Uint8Array, Float32Array, arrays, wrapped buffers and empties", () => {
    const a = new Float32Array([1, 2]);
    expect(toFloat32(a)).toBe(a);
    expect(Array.from(toFloat32(a.buffer))).toEqual([1, 2]);
    expect(Array.from(toFloat32(new Uint8Array(a.buffer)))).toEqual([1, 2]);
    expect(Array.from(toFloat32([0.5, 1]))).toEqual([0.5, 1]);
    expect(Array.from(toFloat32({ buffer: new DataView(a.buffer) }))).toEqual([1, 2]);
    expect(toFloat32(null).length).toBe(0);
    expect(toFloat32(undefined).length).toBe(0);
    expect(toFloat32(new DataView(new ArrayBuffer(0))).length).toBe(0);
  });
});

describe("toUint8", () => {
  it("views bytes at any offset without copying", () => {
    const buf = new ArrayBuffer(10);
    new Uint8Array(buf).set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const out = toUint8(new DataView(buf, 3, 4));
    expect(Array.from(out)).toEqual([3, 4, 5, 6]);
    expect(out.buffer).toBe(buf);
    expect(toUint8(null).length).toBe(0);
  });
  it("byteLength", () => {
    expect(byteLength(new DataView(new ArrayBuffer(12), 4, 5))).toBe(5);
    expect(byteLength(null)).toBe(0);
  });
});
