import { describe, expect, it } from "vitest";
import { fmtInt, fmtNum, fmtSeconds, humanize } from "../src/common/format.js";

describe("format", () => {
  it("fmtInt groups thousands", () => {
    expect(fmtInt(1797)).toBe("1,797");
    expect(fmtInt(1234567)).toBe("1,234,567");
    expect(fmtInt(-1500)).toBe("-1,500");
    expect(fmtInt(NaN)).toBe("–");
  });
  it("fmtNum keeps significant digits", () => {
    expect(fmtNum(1.23456)).toBe("1.23");
    expect(fmtNum(0.000123)).toBe("1.23e-4");
    expect(fmtNum(12345.6)).toBe("12,346");
    expect(fmtNum(0)).toBe("0");
    expect(fmtNum(null)).toBe("–");
  });
  it("fmtSeconds and humanize", () => {
    expect(fmtSeconds(0.4213)).toBe("0.42 s");
    expect(fmtSeconds(12.34)).toBe("12.3 s");
    expect(fmtSeconds(125)).toBe("2 min 05 s");
    expect(humanize("early_exaggeration")).toBe("early exaggeration");
  });
});
