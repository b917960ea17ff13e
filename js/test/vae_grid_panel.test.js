// @vitest-environment jsdom
import { hover, mountPanel } from "./canvas_recorder.js";
import { describe, expect, it } from "vitest";
import { GRID_TEXT, GridPanel, gridValueText } from "../src/vae/grid_panel.js";
import { GRID_KINDS, decodeGrid } from "../src/vae/grids.js";

const panel = (kind, { width = 400, headExtras } = {}) => mountPanel((host) => new GridPanel(host, kind, { headExtras }), { width });

/** rows x cols grey 8x8 images; pixel (r, c, y, x) = 10 * r + c + y (distinct per cell). */
function imageGrid(rows, cols, labels = {}) {
  const px = new Uint8Array(rows * cols * 64);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) px[(r * cols + c) * 64 + y * 8 + x] = 10 * r + c + y;
  return { meta: { shape: [rows, cols, 1, 8, 8], labels: { layout: "image", value_range: [0, 255], ...labels }, step: 1234 }, px };
}

describe("GridPanel", () => {
  it("one panel per kind, titled; the placeholder follows the status", () => {
    for (const kind of GRID_KINDS) {
      const { host, p } = panel(kind);
      expect(host.querySelector(`.vw-panel-${kind} .vw-panel-title`).textContent).toBe(GRID_TEXT[kind].title);
      expect(p.box.dataset.kind).toBe(kind);
      expect(p.update(undefined, new Uint8Array(0), "idle")).toBe(true);
      expect(p.empty.hidden).toBe(false);
      expect(p.canvas.hidden).toBe(true);
      expect(p.empty.textContent).toBe("Press Train to start");
      p.setStatus("running");
      expect(p.empty.textContent).toBe("Waiting for the first images…");
    }
  });

  it("a grid the model cannot draw (no decode) says why, whatever the status, until it can", () => {
    const temperature = document.createElement("span");
    const { p } = panel("samples", { headExtras: [temperature] });
    const why = "Needs decode(z), which this model does not have";
    expect(p.update({ unavailable: why }, new Uint8Array(0), "running")).toBe(true);
    expect(temperature.hidden).toBe(true);                 // no temperature for samples it cannot draw
    expect(p.empty.hidden).toBe(false);
    expect(p.canvas.hidden).toBe(true);
    expect(p.empty.textContent).toBe(why);
    p.setStatus("done");
    expect(p.empty.textContent).toBe(why);
    const { meta, px } = imageGrid(2, 3);
    expect(p.update(meta, px, "running")).toBe(true);        // a decoder came (decode=)
    expect(p.canvas.hidden).toBe(false);
    expect(p.empty.dataset.unavailable).toBeUndefined();
    expect(temperature.hidden).toBe(false);
  });

  it("a buffer too short for its shape is not drawn", () => {
    const { p } = panel("samples");
    const { meta } = imageGrid(2, 2);
    expect(p.update(meta, new Uint8Array(10), "running")).toBe(true);
    expect(p.empty.hidden).toBe(false);
    expect(p.draws).toBe(0);
  });

  it("no width yet: retry, nothing counted as drawn", () => {
    const { p } = panel("samples", { width: 0 });
    const { meta, px } = imageGrid(2, 3);
    expect(p.update(meta, px, "running")).toBe(false);
    expect(p.empty.hidden).toBe(true);
    expect(p.draws).toBe(0);
  });

  it("draws each cell scaled by an integer factor with gaps, captions above and beside", () => {
    const { p, ctx } = panel("reconstructions");
    const { meta, px } = imageGrid(2, 4, { rows: ["original", "reconstruction"], cols: ["#1", "#2", "#3", "#4"] });
    expect(p.update(meta, px, "running")).toBe(true);
    expect(p.draws).toBe(1);
    expect(p.empty.hidden).toBe(true);
    const draws = ctx.ops("drawImage");
    expect(draws.length).toBe(8);
    // row captions 14 chars * 6 px + 8 = 92 px; (400 - 92 - 3 * 2) / 32 -> 9, capped at 64 / 8 = 8: 64 px cells
    // reconstructions keep a 4 px gap between the data row and the reconstruction row
    const capW = 14 * 6 + 8;
    const last = draws[7].args;
    expect(last.slice(1, 5)).toEqual([3 * 8, 8, 8, 8]); // source cell (r 1, c 3)
    expect(last.slice(5)).toEqual([capW + 3 * 66, 16 + 68, 64, 64]);
    expect(ctx.texts).toEqual(expect.arrayContaining(["original", "reconstruction", "#1", "#4"]));
    expect(draws.every((d) => ctx.imageSmoothingEnabled === false)).toBe(true);
    expect(p.readout.textContent).toBe("drawn at step 1,234 · hover for values");
    // hover: cell (1, 2), pixel (row 3, col 5) of 8 px-per-pixel cells
    hover(p.canvas, capW + 2 * 66 + 5 * 8 + 1, 16 + 68 + 3 * 8 + 1);
    expect(p.readout.textContent).toBe("reconstruction · #3 · pixel (3, 5) = 15");
    hover(p.canvas, 1, 1);
    expect(p.readout.textContent).toBe("drawn at step 1,234 · hover for values");
  });

  it("samples show the temperature; their head holds the extras given (the slider)", () => {
    const slider = document.createElement("label");
    slider.className = "my-slider";
    const { p, host } = panel("samples", { headExtras: [slider] });
    expect(host.querySelector(".vw-panel-samples .vw-panel-head .my-slider")).toBe(slider);
    const { meta, px } = imageGrid(2, 2, { temperature: 0.8 });
    p.update(meta, px, "done");
    expect(p.readout.textContent).toBe("drawn at step 1,234 · T = 0.8 · hover for values");
  });

  it("the traversal says which data row it starts from", () => {
    const { p } = panel("traversal");
    const head = p.el.querySelector(".vw-panel-head .vw-traversal-base");
    expect(head).toBe(p.baseEl);
    const { meta, px } = imageGrid(3, 5, { base: 17 });
    p.update(meta, px, "done");
    expect(head.textContent).toBe("base: row #17");
    expect(p.box.dataset.base).toBe("17");
    p.update(undefined, px, "done");
    expect(head.textContent).toBe("");
    expect(p.box.dataset.base).toBe("");
    expect(panel("samples").p.baseEl).toBe(null);
  });

  it("feature strips (tabular data): outlined, a colour legend, features named in the read-out", () => {
    const { p, ctx } = panel("samples");
    const n = 5;
    const px = Uint8Array.from({ length: 2 * 3 * n }, (_, i) => (i * 37) % 256);
    const labels = { layout: "features", scale: "zscore", value_range: [-3, 3], feature_names: ["age", "bmi", "bp", "s1", "s2"] };
    expect(decodeGrid(px, [2, 3, 1, 1, n], labels).layout).toBe("features");
    p.update({ shape: [2, 3, 1, 1, n], labels, step: 7 }, px, "done");
    expect(ctx.ops("strokeRect").length).toBe(6);
    expect(p.legend.hidden).toBe(false);
    expect(p.legend.textContent).toContain("−3σ");
    expect(p.legend.textContent).toContain("+3σ");
    expect(p.legend.textContent).toContain("per-feature z-score");
    // strips: 12 px per feature (capped), 14 px high, 6 px apart
    hover(p.canvas, 12 * 5 + 6 + 2 * 12 + 3, 14 + 6 + 3);
    const v = px[(1 * 3 + 1) * n + 2];
    expect(p.readout.textContent).toBe(gridValueText(p.state.g, labels, 1, 1, 2, 0, v));
    expect(p.readout.textContent).toMatch(/^bp: z = [+-]\d/);
    // an image grid afterwards hides the legend again
    const img = imageGrid(1, 1);
    p.update(img.meta, img.px, "done");
    expect(p.legend.hidden).toBe(true);
  });

  it("gridValueText: rows and columns named, RGB pixels without a value", () => {
    const g = { layout: "image", channels: 3 };
    expect(gridValueText(g, { rows: ["z0"], cols: ["+1σ"] }, 0, 0, 2, 1, 9)).toBe("z0 · +1σ · pixel (1, 2)");
    // no captions: just the value
    expect(gridValueText({ layout: "image", channels: 1 }, {}, 0, 0, 0, 0, 255)).toBe("pixel (0, 0) = 1");
  });

  it("destroy removes the panel", () => {
    const { host, p } = panel("interpolation");
    p.destroy();
    expect(host.children.length).toBe(0);
  });
});
