import { describe, expect, it } from "vitest";
import { pointInPolygon, pointsInPolygon } from "../src/common/lasso.js";

describe("lasso hit-testing", () => {
  const square = [0, 0, 10, 0, 10, 10, 0, 10];
  it("pointInPolygon", () => {
    expect(pointInPolygon(5, 5, square)).toBe(true);
    expect(pointInPolygon(15, 5, square)).toBe(false);
    // concave "C" shape
    const c = [0, 0, 10, 0, 10, 3, 3, 3, 3, 7, 10, 7, 10, 10, 0, 10];
    expect(pointInPolygon(1, 5, c)).toBe(true);
    expect(pointInPolygon(6, 5, c)).toBe(false);
  });
  it("pointsInPolygon returns indices inside", () => {
    const xs = Float32Array.from([1, 5, 20, 9]);
    const ys = Float32Array.from([1, 5, 5, -1]);
    expect(pointsInPolygon(xs, ys, square)).toEqual([0, 1]);
    expect(pointsInPolygon(xs, ys, [0, 0, 1, 1])).toEqual([]);
  });
});
