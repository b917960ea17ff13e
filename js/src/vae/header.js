// The VAE view's header (title, status, what is being trained) and toolbar
// (Train / Pause / Stop, PNG download, progress). Clicks become commands
// through `onCommand(action)`; `update(state)` shows the run's status.

import { iconButton } from "../common/controls.js";
import { h, setText } from "../common/dom.js";
import { pngButton } from "../common/download.js";
import { fmtInt } from "../common/format.js";
import { fmtEpoch } from "./panel.js";

export const STATUS_TEXT = {
  idle: "ready",
  running: "training",
  paused: "paused",
  done: "done",
  stopped: "stopped",
  error: "error",
};
const ACTIVE = new Set(["running", "paused"]);

/**
 * Progress text and fraction: "epoch 3 / 10 · step 1,234" (without a target: epoch + the
 * epochs a click trains). Watching a user's loop (mode "watch"), the target is unknown:
 * "epoch 3 · step 1,234".
 */
export function progressOf({ epoch = 0, step = 0, targetEpoch = 0, epochs = 0, mode = "train" }) {
  if (mode === "watch") return { text: `epoch ${fmtEpoch(epoch)} · step ${fmtInt(step)}`, fraction: 0 };
  const shownTarget = targetEpoch > 0 ? targetEpoch : epoch + epochs;
  return {
    text: `epoch ${fmtEpoch(epoch)} / ${fmtEpoch(shownTarget)} · step ${fmtInt(step)}`,
    fraction: targetEpoch > 0 ? Math.max(0, Math.min(1, epoch / targetEpoch)) : 0,
  };
}

export class HeaderBar {
  /**
   * @param {HTMLElement} host  the view's root: the header and the toolbar are appended to it
   * @param {{onCommand: (action: string) => void, root: () => HTMLElement}} opts
   *   `root` is what the PNG button draws.
   */
  constructor(host, { onCommand, root }) {
    this.status = "idle";
    this.runBtn = iconButton("vw-run", "play", "Train", "Train the VAE for the number of epochs set below (or resume when paused)");
    this.pauseBtn = iconButton("vw-pause", "pause", "Pause", "Pause training (Resume continues where it stopped)");
    this.stopBtn = iconButton("vw-stop", "stop", "Stop", "Stop: keep the model as it is now and end this training run");
    this.pngBtn = pngButton({
      root,
      stem: "vae",
      text: [".vw-title", ".vw-panel-title", ".vw-chart-readout", ".vw-series-item", ".vw-grid-readout"],
      swatches: [".vw-series-swatch"],
    });
    this.progressText = h("span.vw-progress-text");
    this.progressFill = h("div.vw-progress-bar-fill");
    this.progressBar = h("div.vw-progress-bar", { attrs: { role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100" } }, this.progressFill);
    this.statusEl = h("span.vw-status");
    this.infoEl = h("div.vw-info");
    this.header = h("div.vw-header", {}, h("span.vw-title", {}, "VAE"), this.statusEl, this.infoEl);
    this.toolbar = h(
      "div.vw-toolbar",
      {},
      h("div.vw-group", {}, this.runBtn, this.pauseBtn, this.stopBtn),
      h("div.vw-group", {}, this.pngBtn),
      h("div.vw-progress-box", {}, this.progressText, this.progressBar),
    );
    host.append(this.header, this.toolbar);
    this.runBtn.addEventListener("click", () => onCommand(this.status === "paused" ? "resume" : "run"));
    this.pauseBtn.addEventListener("click", () => onCommand("pause"));
    this.stopBtn.addEventListener("click", () => onCommand("stop"));
  }

  /**
   * {status, step, epoch, targetEpoch, epochs, mode} from the model. In mode "watch" (a
   * user's own loop feeds the view) there is nothing to Train: the button only resumes a
   * pause, and Pause / Stop act on the loop (it waits in v.log() / sees v.should_stop).
   */
  update({ status = "idle", step = 0, epoch = 0, targetEpoch = 0, epochs = 0, mode = "train" }) {
    const st = status || "idle";
    const watch = mode === "watch";
    this.status = st;
    setText(this.statusEl, (watch && st === "idle" ? "waiting for your loop" : STATUS_TEXT[st]) || st);
    this.statusEl.className = `vw-status vw-status-${st}`;
    this.runBtn.setLabel(st === "paused" ? "Resume" : "Train");
    this.runBtn.title = st === "paused" ? (watch ? "Resume: your loop goes on from v.log()" : "Resume training") : `Train for ${fmtInt(epochs)} epochs (continues from the current model)`;
    this.runBtn.disabled = st === "running";
    this.runBtn.hidden = watch && st !== "paused";
    this.pauseBtn.title = watch ? "Pause your loop: it waits inside v.log() until Resume" : "Pause training (Resume continues where it stopped)";
    this.stopBtn.title = watch ? "Stop: v.should_stop becomes True; your loop should break" : "Stop: keep the model as it is now and end this training run";
    this.pauseBtn.disabled = st !== "running";
    this.stopBtn.disabled = !ACTIVE.has(st);
    const p = progressOf({ epoch, step, targetEpoch, epochs, mode });
    setText(this.progressText, p.text);
    this.progressFill.style.width = `${(p.fraction * 100).toFixed(1)}%`;
    this.progressBar.setAttribute("aria-valuenow", String(Math.round(p.fraction * 100)));
    this.progressBar.classList.toggle("vw-progress-active", st === "running");
  }

  setInfo(text) {
    setText(this.infoEl, text || "");
  }

  destroy() {
    this.header.remove();
    this.toolbar.remove();
  }
}
