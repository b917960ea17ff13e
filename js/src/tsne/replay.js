// The scrubber of the t-SNE view: replay the frames the kernel kept of the run
// (while paused or done), and the trails of the selected points over them.
// Both are asked for ({type: "replay" | "trails", view, ...}) and answered to
// this view only; one replay request is in flight at a time, the newest wanted
// frame is asked next (latest wins).

import { toFloat32 } from "../common/buffers.js";
import { h, setText } from "../common/dom.js";
import { REPLAY, TRAILS } from "../common/schema.js";
import { decodeTrails, scrubText } from "./analysis.js";

// the scrubber replays kept frames while nothing moves
const SCRUB_STATUSES = new Set(["paused", "done", "stopped"]);
const MAX_TRAILS = 500;
const IDLE_TEXT = "replay: after the run or while paused";

export class ReplayPanel {
  /** onChange(): the replayed frame (or its end) must be drawn; onTrails(): redraw the overlay */
  constructor(view, { onChange, onTrails }) {
    this.view = view;
    this.model = view.model;
    this.onChange = onChange;
    this.onTrails = onTrails;
    this.replay = null; // {index, positions, iteration} while a kept frame is shown
    this.wanted = null; // index to ask for once the answer in flight arrives
    this.asked = false;
    this.trails = null; // {indices, frames, data}
    this.scrub = h("input.vw-scrub", {
      type: "range", min: "0", max: "0", step: "1", value: "0", disabled: true,
      title: "Replay the kept frames of the run (while paused or done)",
      attrs: { "aria-label": "frame of the run to show" },
    });
    this.textEl = h("span.vw-scrub-text", {}, IDLE_TEXT);
    this.liveBtn = h("button.vw-scrub-live", { type: "button", title: "Back to the latest layout", disabled: true }, "latest");
    this.trailsBox = h("input.vw-trails-toggle", { type: "checkbox", title: "Draw the path of each selected point over the kept frames" });
    this.el = h("div.vw-scrubber", {}, this.scrub, this.textEl, this.liveBtn, h("label.vw-trails-label", {}, this.trailsBox, "trails"));
    view.listen(this.scrub, "input", () => this.ask(Number(this.scrub.value)));
    view.listen(this.liveBtn, "click", () => this.end());
    view.listen(this.trailsBox, "change", () => this.askTrails());
    view.onReply((msg, buffers) => this._answer(msg, buffers));
  }

  iterations() {
    return this.model.get("history_iterations") || [];
  }

  active() {
    return SCRUB_STATUSES.has(this.model.get("status")) && this.iterations().length > 1;
  }

  /** Follow the status and the kept frames (called on their changes). */
  update() {
    const its = this.iterations();
    const on = this.active();
    this.scrub.disabled = !on;
    this.scrub.max = String(Math.max(0, its.length - 1));
    if (!on && this.replay) this.end(false);
    if (!this.replay) this.scrub.value = this.scrub.max;
    setText(this.textEl, on ? scrubText(Number(this.scrub.value), its) : IDLE_TEXT);
    if (this.trailsBox.checked) this.askTrails();
  }

  ask(index) {
    if (!this.active()) return;
    setText(this.textEl, scrubText(index, this.iterations()));
    if (this.asked) {
      this.wanted = index; // latest wins
      return;
    }
    this.asked = true;
    this.model.send({ type: REPLAY, view: this.view.viewId, index });
  }

  /** Back to the live layout; redraw unless the caller draws anyway. */
  end(redraw = true) {
    this.replay = null;
    this.wanted = null;
    this.view.root.dataset.replay = "";
    this.liveBtn.disabled = true;
    const its = this.iterations();
    this.scrub.value = String(Math.max(0, its.length - 1));
    if (this.active()) setText(this.textEl, scrubText(its.length - 1, its));
    if (redraw) this.onChange();
  }

  askTrails() {
    const n = this.model.get("n_points") || 0;
    const sel = (this.model.get("selected") || []).filter((i) => i < n).slice(0, MAX_TRAILS);
    if (!this.trailsBox.checked || !sel.length) {
      this.trails = null;
      this.onTrails();
      return;
    }
    this.model.send({ type: TRAILS, view: this.view.viewId, indices: sel });
  }

  /** Polylines of the trails up to the shown frame (for the overlay), or null. */
  trailLines() {
    if (!this.trailsBox.checked || !this.trails) return null;
    const upto = this.replay ? this.replay.index : this.trails.frames - 1;
    return decodeTrails(this.trails.data, this.trails.frames, this.trails.indices.length, upto);
  }

  _answer(msg, buffers) {
    if (msg.type === REPLAY) {
      this.asked = false;
      const its = this.iterations();
      const last = msg.index === its.length - 1 || msg.index === -1;
      if (this.active()) {
        this.replay = last ? null : { index: msg.index, positions: toFloat32(buffers?.[0]), iteration: msg.iteration };
        this.view.root.dataset.replay = this.replay ? String(msg.index) : "";
        this.liveBtn.disabled = !this.replay;
        this.onChange();
      }
      if (this.wanted !== null) {
        const next = this.wanted;
        this.wanted = null;
        this.ask(next);
      }
    } else if (msg.type === TRAILS) {
      this.trails = { indices: msg.indices || [], frames: msg.frames || 0, data: toFloat32(buffers?.[0]) };
      this.onTrails();
    }
  }
}
