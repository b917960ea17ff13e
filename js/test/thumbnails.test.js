import { describe, expect, it } from "vitest";
import { decodeThumbnail, imageGeometry, thumbnailCount, thumbnailScale } from "../src/common/thumbnails.js";

describe("thumbnails", () => {
  it("decodes grayscale [H, W] samples to RGBA", () => {
    // two 2x3 images
    const px = Uint8Array.from([0, 10, 20, 30, 40, 50, 100, 110, 120, 130, 140, 255]);
    const img = decodeThumbnail(px, [2, 3], 1);
    expect(img.width).toBe(3);
    expect(img.height).toBe(2);
    expect(img.data).toBeInstanceOf(Uint8ClampedArray);
    expect(Array.from(img.data.slice(0, 8))).toEqual([100, 100, 100, 255, 110, 110, 110, 255]);
    expect(Array.from(img.data.slice(20, 24))).toEqual([255, 255, 255, 255]);
  });

  it("treats C = 1 as grayscale", () => {
    const img = decodeThumbnail(Uint8Array.from([7, 8, 9, 10]), [1, 2, 2], 0);
    expect(Array.from(img.data.slice(12, 16))).toEqual([10, 10, 10, 255]);
  });

  it("decodes channels-first RGB [3, H, W]", () => {
    // one 1x2 RGB image: R plane [255, 0], G plane [0, 128], B plane [10, 20]
    const img = decodeThumbnail(Uint8Array.from([255, 0, 0, 128, 10, 20]), [3, 1, 2], 0);
    expect(Array.from(img.data)).toEqual([255, 0, 10, 255, 0, 128, 20, 255]);
  });

  it("returns null for a missing sample or a bad shape", () => {
    const px = new Uint8Array(8);
    expect(decodeThumbnail(px, [2, 2], 2)).toBe(null);
    expect(decodeThumbnail(px, [], 0)).toBe(null);
    expect(decodeThumbnail(px, [2, 0], 0)).toBe(null);
    expect(decodeThumbnail(px, [2, 2], -1)).toBe(null);
    expect(imageGeometry([8, 8])).toEqual({ channels: 1, height: 8, width: 8, size: 64 });
    expect(imageGeometry([3, 4, 5]).size).toBe(60);
    expect(imageGeometry([1, 2, 3, 4])).toBe(null);
    expect(thumbnailCount(130, [8, 8])).toBe(2);
  });

  it("scales small images up by an integer factor", () => {
    expect(thumbnailScale(8, 8, 72)).toBe(9);
    expect(thumbnailScale(28, 28, 72)).toBe(2);
    expect(thumbnailScale(200, 100, 72)).toBe(1);
  });
});
