// @vitest-environment jsdom
import { DARK, LIGHT, setWidth } from "./canvas_recorder.js";
import { describe, expect, it } from "vitest";
import { CurvesPanel, SERIES, curvesReadout } from "../src/vae/curves_panel.js";
import { buildCurves } from "../src/vae/curves.js";
import { MetricsStore } from "../src/vae/metrics.js";

const s = new MetricsStore();
s.replace({ step: [10, 20, 30, 40], epoch: [0.5, 1, 1.5, 2], elbo: [50, 40, 35, 30], recon: [45, 34, 28, 22], kl: [5, 6, 7, 8] }, null, 0);
const EM = { epoch: [1, 2], val_elbo: [41, 33] };

function panel() {
  const host = document.createElement("div");
  document.body.append(host);
  const p = new CurvesPanel(host);
  p.setTheme(LIGHT);
  return { host, p };
}

const shown = (p) => p.chart.uplot.series.slice(1).map((x) => x.show);

describe("CurvesPanel", () => {
  it("builds the legend and an empty chart; the placeholder follows the status", () => {
    const { host, p } = panel();
    expect(host.querySelector(".vw-panel-curves .vw-panel-title").textContent).toBe("Loss");
    expect([...host.querySelectorAll(".vw-series-item")].map((e) => e.dataset.series)).toEqual(["elbo", "recon", "kl", "val"]);
    expect(p.box.querySelector(".uplot")).not.toBe(null);
    expect(p.empty.hidden).toBe(false);
    p.setStatus("running");
    expect(p.empty.textContent).toBe("Waiting for the first metrics…");
    p.setStatus("done");
    expect(p.empty.textContent).toBe("Press Train to start: the loss curves appear here");
  });

  it("update: the chart gets the curves, the read-out the latest −ELBO, validation in the legend only when there is some", () => {
    const { p } = panel();
    p.update(s.cols, {}, []);
    const u = p.chart.uplot;
    expect(u.data[0]).toEqual([10, 20, 30, 40]);
    expect(u.data[1]).toEqual([50, 40, 35, 30]);
    expect(p.empty.hidden).toBe(true);
    expect(p.legendItems[3].item.hidden).toBe(true);
    expect(p.readout.textContent).toBe("−ELBO 30 at step 40");
    p.update(s.cols, EM, [{ step: 20, label: "beta 4" }]);
    expect(p.legendItems[3].item.hidden).toBe(false);
    expect(p.chart.uplot.data[4]).toEqual([null, 41, null, 33]);
  });

  it("legend clicks hide and show a series", () => {
    const { p } = panel();
    p.update(s.cols, EM, []);
    expect(shown(p)).toEqual([true, true, true, true]);
    const kl = p.legendItems[2].item;
    kl.click();
    expect(shown(p)).toEqual([true, true, false, true]);
    expect(kl.classList.contains("vw-off")).toBe(true);
    expect(kl.getAttribute("aria-pressed")).toBe("false");
    kl.click();
    expect(shown(p)).toEqual([true, true, true, true]);
  });

  it("log y: a new chart on a log scale with the same data and hidden series", () => {
    const { p } = panel();
    p.update(s.cols, EM, []);
    p.legendItems[1].item.click();
    const before = p.chart;
    p.logBox.checked = true;
    p.logBox.dispatchEvent(new Event("change"));
    expect(p.chart).not.toBe(before);
    expect(p.chart.uplot.scales.y.distr).toBe(3);
    expect(p.chart.uplot.data[1]).toEqual([50, 40, 35, 30]);
    expect(shown(p)).toEqual([true, false, true, true]);
  });

  it("theme: swatches take the theme's colours", () => {
    const { p } = panel();
    expect(p.setTheme(DARK)).toBe(false); // uPlot redraws itself
    expect(p.legendItems[0].sw.style.background).toBe("rgb(127, 178, 229)"); // #7fb2e5
    p.setTheme(LIGHT);
    expect(p.legendItems[0].sw.style.background).toBe("rgb(31, 95, 168)"); // #1f5fa8
    expect(p.legendItems[3].sw.classList.contains("vw-dashed")).toBe(true);
  });

  it("resize follows the box width", () => {
    const { p } = panel();
    setWidth(p.box, 640);
    p.resize();
    expect(p.chart.uplot.width).toBe(640);
  });

  it("curvesReadout: every series at the cursor, short names", () => {
    const d = buildCurves(s.cols, EM, []);
    expect(curvesReadout(d, 1)).toBe("step 20 · −ELBO 40 · recon 34 · KL 6 · val 41");
    expect(curvesReadout(d, null)).toBe("−ELBO 30 at step 40");
    expect(curvesReadout(null, 1)).toBe("");
    expect(SERIES.map((x) => x.short)).toEqual(["−ELBO", "recon", "KL", "val"]);
  });

  it("destroy removes the chart and the panel", () => {
    const { host, p } = panel();
    p.destroy();
    expect(host.children.length).toBe(0);
  });
});
