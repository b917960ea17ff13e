import { describe, expect, it } from "vitest";
import { DrawBudget, Subsample, permutation } from "../src/common/lod.js";

describe("DrawBudget: how many points fit the time a draw may hold the page", () => {
  it("draws everything until a draw was timed, and small maps always whole", () => {
    const b = new DrawBudget({ budgetMs: 60, minN: 50000 });
    expect(b.size(1e6)).toBe(1e6);
    b.record(700, 1e6); // a software renderer: 0.7 s for a million points
    expect(b.size(40000)).toBe(40000);
    expect(b.size(1e6)).toBeLessThan(1e6);
  });

  it("sizes the subsample to the budget, never below minPoints, in two significant digits", () => {
    const b = new DrawBudget({ budgetMs: 60, minPoints: 20000 });
    b.record(700, 1e6);
    expect(b.size(1e6)).toBe(86000); // 60 / 0.0007 = 85,714
    b.record(700 * 10, 1e6); // ten times slower (two draws averaged: 3.85 us a point)
    expect(b.size(1e6)).toBe(20000);
  });

  it("a fast renderer draws the whole map", () => {
    const b = new DrawBudget({ budgetMs: 60 });
    b.record(15, 1e6);
    expect(b.size(1e6)).toBe(1e6);
  });

  it("ignores nonsense timings", () => {
    const b = new DrawBudget();
    b.record(NaN, 100);
    b.record(10, 0);
    expect(b.msPerPoint).toBe(null);
  });
});

describe("Subsample: the same k of n points every frame", () => {
  it("is a permutation, seeded, the same every time", () => {
    const p = permutation(1000);
    expect([...p].sort((a, b) => a - b)).toEqual([...Array(1000).keys()]);
    expect(permutation(1000)).toEqual(p);
    expect(permutation(1000, 7)).not.toEqual(p);
  });

  it("maps points to drawn rows and back; points not drawn are left out", () => {
    const s = new Subsample(10000, 500);
    expect(s.sub.length).toBe(500);
    for (let j = 1; j < 500; j++) expect(s.sub[j]).toBeGreaterThan(s.sub[j - 1]); // sorted, distinct
    for (let j = 0; j < 500; j++) expect(s.inv[s.sub[j]]).toBe(j);
    let drawn = 0;
    for (let i = 0; i < 10000; i++) if (s.inv[i] >= 0) drawn++;
    expect(drawn).toBe(500);
    const some = [s.sub[3], -1, 10000, s.sub[40], ...[...Array(50).keys()]];
    const rows = s.rows(some);
    expect(rows.slice(0, 2)).toEqual([3, 40]);
    expect(rows.every((j) => j >= 0 && j < 500)).toBe(true);
  });

  it("spreads over the whole index range (a random sample, not the first rows)", () => {
    const s = new Subsample(100000, 1000);
    const quarter = [0, 0, 0, 0];
    for (const i of s.sub) quarter[Math.floor(i / 25000)]++;
    for (const q of quarter) expect(q).toBeGreaterThan(180);
  });
});
