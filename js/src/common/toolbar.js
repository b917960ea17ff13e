// Toolbar pieces both point views share: ▶ ⏸ ⏹ with the status label, the
// lasso and reset-view toggles, and the selection count with its clear button.

import { iconButton } from "./controls.js";
import { h, setText } from "./dom.js";
import { fmtInt } from "./format.js";
import { ACTIVE_STATUSES, command } from "./schema.js";

export const STATUS_TEXT = {
  idle: "ready",
  preparing: "preparing",
  affinities: "affinities",
  running: "running",
  paused: "paused",
  done: "done",
  stopped: "stopped",
  error: "error",
};
export const BUSY = new Set(["preparing", "affinities", "running"]);

export class RunControls {
  /** titles: {run, pause, stop} tooltips */
  constructor(view, titles) {
    const m = view.model;
    this.runBtn = iconButton("vw-run", "play", "Run", titles.run);
    this.pauseBtn = iconButton("vw-pause", "pause", "Pause", titles.pause);
    this.stopBtn = iconButton("vw-stop", "stop", "Stop", titles.stop);
    this.statusEl = h("span.vw-status");
    this.el = h("div.vw-group", {}, this.runBtn, this.pauseBtn, this.stopBtn);
    view.listen(this.runBtn, "click", () => m.send(command(m.get("status") === "paused" ? "resume" : "run")));
    view.listen(this.pauseBtn, "click", () => m.send(command("pause")));
    view.listen(this.stopBtn, "click", () => m.send(command("stop")));
  }

  update(st) {
    setText(this.statusEl, STATUS_TEXT[st] || st);
    this.statusEl.className = `vw-status vw-status-${st}`;
    this.runBtn.setLabel(st === "paused" ? "Resume" : "Run");
    this.runBtn.disabled = BUSY.has(st);
    this.pauseBtn.disabled = st !== "running" && st !== "affinities";
    this.stopBtn.disabled = !ACTIVE_STATUSES.has(st);
  }
}

/** Lasso mode toggle and reset view; the hint line under the scatter follows the mode. */
export class ViewControls {
  constructor(view, { lassoTitle, resetTitle, resetLabel = "Reset view", hint, hintLasso, onLasso, onReset }) {
    this.lassoBtn = iconButton("vw-lasso", "lasso", "Lasso", lassoTitle);
    this.lassoBtn.setAttribute("aria-pressed", "false");
    this.resetBtn = iconButton("vw-reset-view", "fit", resetLabel, resetTitle);
    this.hintEl = h("div.vw-hint", {}, hint);
    this.lassoOn = false;
    view.listen(this.lassoBtn, "click", () => {
      const on = !this.lassoOn;
      this.lassoOn = on;
      this.lassoBtn.setAttribute("aria-pressed", String(on));
      this.lassoBtn.classList.toggle("vw-active", on);
      setText(this.hintEl, on ? hintLasso : hint);
      onLasso(on);
    });
    view.listen(this.resetBtn, "click", () => onReset());
  }
}

export class SelectionBadge {
  constructor(view, onClear) {
    this.countEl = h("span.vw-selected-count");
    this.clearBtn = h("button.vw-clear-selection", { type: "button", title: "Clear the selection" }, "clear");
    this.el = h("span.vw-selection", { hidden: true }, this.countEl, this.clearBtn);
    view.listen(this.clearBtn, "click", onClear);
  }

  update(n) {
    setText(this.countEl, `${fmtInt(n)} selected`);
    this.el.hidden = n === 0;
  }
}
