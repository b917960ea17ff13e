// When a map too big to draw in time is drawn thinned and when whole again: the
// level-of-detail schedule of a WebGL scatter (scatter_gl.js; what is drawn,
// the budget and the subsample, is lod.js).
//
// While frames stream, the camera moves or a lasso is drawn, the map "moves":
// a map over the draw budget is drawn from a subsample. The whole map follows
// once no frame came for restMs.frames (or twice the recent gap between frames,
// up to 5 s) and the camera rested for restMs.camera, or for 1.5 times what the
// whole map takes to draw, up to 2 s (a costly refinement waits until the user
// has surely stopped: it holds the page while it draws).

export const FRAME_REST_MS = 1000;
export const CAMERA_REST_MS = 350;
export const CAMERA_REST_MAX_MS = 2000;
const FRAME_REST_MAX_MS = 5000;

export class MotionClock {
  /**
   * @param {import("./lod.js").DrawBudget} budget  what a whole draw costs per point
   * @param {() => void} onRestDue  called when a scheduled rest is due (the scatter checks)
   */
  constructor(budget, onRestDue) {
    this.budget = budget;
    this.onRestDue = onRestDue;
    this.restMs = { frames: FRAME_REST_MS, camera: CAMERA_REST_MS }; // tests shorten them
    this.lastFrameAt = -Infinity;
    this.lastInteraction = -Infinity;
    this.frameGap = 0; // smoothed gap between frames, ms
    this.lassoing = false;
    this.timer = null;
  }

  /** A frame arrived at `now`; returns the gap since the previous one (ms). */
  frame(now) {
    const gap = now - this.lastFrameAt;
    if (gap < 10000) this.frameGap = 0.5 * this.frameGap + 0.5 * gap;
    this.lastFrameAt = now;
    return gap;
  }

  /** The user moved the camera (or started a lasso) now. */
  interacted(lasso = false) {
    this.lastInteraction = performance.now();
    if (lasso) this.lassoing = true;
  }

  /** Does a map of n points move now (frames, camera or lasso)? */
  moving(n) {
    const now = performance.now();
    const frameRest = Math.min(FRAME_REST_MAX_MS, Math.max(this.restMs.frames, 2 * this.frameGap));
    return this.lassoing || now - this.lastFrameAt < frameRest || now - this.lastInteraction < this.cameraRest(n);
  }

  /** How long the camera must rest before a map of n points is drawn whole again (ms). */
  cameraRest(n) {
    const whole = (this.budget.msPerPoint ?? 0) * n;
    return Math.max(this.restMs.camera, Math.min(CAMERA_REST_MAX_MS, 1.5 * whole));
  }

  /** Call onRestDue once a map of n points may have rested. */
  schedule(n) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.onRestDue(), this.cameraRest(n));
  }

  cancel() {
    clearTimeout(this.timer);
    this.timer = null;
  }
}
