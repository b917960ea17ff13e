// @vitest-environment jsdom
import { describe, expect, it, vi } from "vitest";
import { banner, formatParamValue, paramField, parseParamInput, progressBar } from "../src/common/controls.js";
import { Legend } from "../src/common/legend.js";
import { encodeColors } from "../src/common/colors.js";

describe("parameter parsing", () => {
  it("numbers, auto, and raw text for the kernel to reject", () => {
    expect(parseParamInput("30")).toBe(30);
    expect(parseParamInput(" 12.5 ")).toBe(12.5);
    expect(parseParamInput("1e3")).toBe(1000);
    expect(parseParamInput("AUTO", true)).toBe("auto");
    expect(parseParamInput("auto", false)).toBe("auto"); // sent as text; kernel rejects
    expect(parseParamInput("abc")).toBe("abc");
    expect(parseParamInput("   ")).toBe(undefined);
    expect(formatParamValue(30.0)).toBe("30");
    expect(formatParamValue(0.1 + 0.2)).toBe("0.3");
    expect(formatParamValue("auto")).toBe("auto");
    expect(formatParamValue(null)).toBe("");
  });
});

describe("paramField", () => {
  const spec = { name: "learning_rate", label: "learning rate", help: "help", live: true, auto: true };

  it("sends on Enter only when the text changed, and shows kernel values", () => {
    const onCommit = vi.fn();
    const f = paramField(spec, onCommit);
    document.body.append(f.el);
    f.set("auto");
    expect(f.input.value).toBe("auto");
    expect(f.input.dataset.param).toBe("learning_rate");
    expect(f.el.querySelector(".vw-live")).not.toBe(null);
    f.input.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter" }));
    expect(onCommit).not.toHaveBeenCalled();
    f.input.value = "200";
    f.input.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter" }));
    expect(onCommit).toHaveBeenCalledWith("learning_rate", 200);
    expect(f.input.classList.contains("vw-pending")).toBe(true);
    f.set(200); // kernel accepted
    expect(f.input.classList.contains("vw-pending")).toBe(false);
    expect(f.input.value).toBe("200");
    f.destroy();
  });

  it("reverts to the kernel's value when rejected", () => {
    const f = paramField({ ...spec, name: "perplexity", auto: false }, () => {});
    document.body.append(f.el);
    f.set(30);
    f.input.value = "-5";
    f.input.dispatchEvent(new Event("blur"));
    expect(f.input.value).toBe("-5");
    f.revert();
    expect(f.input.value).toBe("30");
    f.destroy();
  });
});

describe("progress, banners, legend", () => {
  it("progress bar shows the fraction and message", () => {
    const p = progressBar();
    p.set(0.25, "nearest neighbours 5,000 / 20,000");
    expect(p.el.querySelector(".vw-progress-fill").style.width).toMatch(/^25(\.0)?%$/);
    expect(p.el.textContent).toContain("nearest neighbours 5,000 / 20,000");
    expect(p.el.textContent).toContain("25%");
  });
  it("banner hides when empty", () => {
    const b = banner("vw-error");
    b.set("boom");
    expect(b.el.hidden).toBe(false);
    expect(b.el.textContent).toBe("boom");
    b.set("");
    expect(b.el.hidden).toBe(true);
  });
  it("legend lists categories with counts and reports clicks", () => {
    const onPick = vi.fn();
    const lg = new Legend({ onPick });
    const enc = encodeColors({ kind: "categorical", values: new Float32Array([0, 1, 1, 2]), n: 4, names: ["zero", "one", "two"] });
    lg.update(enc, ["zero", "one", "two"], "digit");
    expect(lg.el.hidden).toBe(false);
    expect(lg.bar.hidden).toBe(true);
    const items = lg.el.querySelectorAll(".vw-legend-item");
    expect(items).toHaveLength(3);
    expect(items[1].textContent).toBe("one2");
    items[2].click();
    expect(onPick.mock.calls[0][0]).toBe(2);
    const cont = encodeColors({ kind: "continuous", values: new Float32Array([1, 2, NaN]), n: 3 });
    lg.update(cont, [], "value");
    expect(lg.el.hidden).toBe(true);
    expect(lg.bar.hidden).toBe(false);
    expect(lg.bar.querySelector(".vw-colorbar-min").textContent).toBe("1");
    expect(lg.bar.querySelector(".vw-colorbar-nan").hidden).toBe(false);
  });
});
