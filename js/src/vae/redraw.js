// Coalesced redraws of the named parts of a view (unit-tested).
//
// schedule("kl", "rd") marks parts dirty and draws them all on the next
// animation frame, once each, `first` parts before the others. A part whose
// draw returns false could not be drawn (its box has no width: not attached
// yet, or the host hides the page while it swaps the theme stylesheet); it is
// tried again shortly, a bounded number of times, and `retrySkipped()` (called
// when the box gets a size) tries at once. A draw that throws is logged and
// does not stop the others.

const raf = (fn) => (typeof requestAnimationFrame === "function" ? requestAnimationFrame(fn) : setTimeout(fn, 16));
const caf = (id) => {
  if (typeof cancelAnimationFrame === "function") cancelAnimationFrame(id);
  clearTimeout(id);
};

export class Redraw {
  /** `draw(part)` -> false when the part must be retried. */
  constructor(draw, { first = [], retryMs = 200, maxRetries = 25 } = {}) {
    this.draw = draw;
    this.first = first;
    this.retryMs = retryMs;
    this.maxRetries = maxRetries;
    this.dirty = new Set();
    this.skipped = new Set();
    this.frame = null;
    this.retryTimer = null;
    this.retries = 0;
    this.destroyed = false;
  }

  /** Redraw the named parts on the next animation frame (coalesced). */
  schedule(...parts) {
    for (const p of parts) this.dirty.add(p);
    if (this.frame !== null || this.destroyed) return;
    this.frame = raf(() => {
      this.frame = null;
      if (this.destroyed) return;
      const parts = [...this.dirty];
      this.dirty.clear();
      this.now(...this.first.filter((p) => parts.includes(p)), ...parts.filter((p) => !this.first.includes(p)));
    });
  }

  /** Draw the named parts now (in this order). */
  now(...parts) {
    for (const p of parts) {
      try {
        if (this.draw(p) === false) this._retry(p);
      } catch (err) {
        console.error(`vae_widgets: drawing ${p} failed`, err);
      }
    }
    if (!this.skipped.size) this.retries = 0;
  }

  /** The boxes have a size now: draw what was skipped (with a fresh retry budget). */
  retrySkipped() {
    if (!this.skipped.size) return;
    const parts = [...this.skipped];
    this.skipped.clear();
    this.retries = 0;
    this.schedule(...parts);
  }

  _retry(part) {
    this.skipped.add(part);
    if (this.retryTimer || this.retries >= this.maxRetries || this.destroyed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.retries++;
      const parts = [...this.skipped];
      this.skipped.clear();
      this.schedule(...parts);
    }, this.retryMs);
  }

  destroy() {
    this.destroyed = true;
    if (this.frame !== null) caf(this.frame);
    clearTimeout(this.retryTimer);
  }
}
