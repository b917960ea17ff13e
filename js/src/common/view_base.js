// What every rendered view of a widget does the same way: listen to traits and
// DOM events (and forget them all on destroy), answer only the kernel messages
// addressed to it, follow the host theme and its own size.
//
//   class MyView extends ViewBase {
//     constructor(model, el) { super(model); ...build this.root...; this.on(["a", "b"], () => ...); }
//     themeChanged(theme) { ... }   resized() { ... }
//   }

import { readTheme, watchTheme } from "./theme.js";

let viewCounter = 0;

export class ViewBase {
  constructor(model) {
    this.model = model;
    this.offs = [];
    this.destroyed = false;
    // kernel answers to this view's requests carry this id (several views of one widget)
    this.viewId = `v${++viewCounter}-${Math.random().toString(36).slice(2, 8)}`;
    this.theme = null;
    this.themeKey = "";
  }

  /** Call fn() when any of the traits changes (never after destroy). */
  on(traits, fn) {
    for (const name of [].concat(traits)) {
      const cb = () => {
        if (!this.destroyed) fn(name);
      };
      this.model.on(`change:${name}`, cb);
      this.offs.push(() => this.model.off(`change:${name}`, cb));
    }
  }

  /** addEventListener, removed on destroy. */
  listen(target, type, fn, options) {
    target.addEventListener(type, fn, options);
    this.offs.push(() => target.removeEventListener(type, fn, options));
  }

  /** Kernel messages addressed to this view ({view: this.viewId}). */
  onReply(fn) {
    const cb = (msg, buffers) => {
      if (msg && msg.view === this.viewId && !this.destroyed) fn(msg, buffers);
    };
    this.model.on("msg:custom", cb);
    this.offs.push(() => this.model.off("msg:custom", cb));
  }

  /** Set a trait from the page and send it to the kernel. */
  save(name, value) {
    this.model.set(name, value);
    this.model.save_changes();
  }

  /**
   * Start following the theme (read on `themeRoot`) and the size of `elements`:
   * themeChanged(theme) runs when the host's colours change, resized() on layout.
   */
  follow(themeRoot, elements = []) {
    this.themeRoot = themeRoot;
    this.theme = readTheme(themeRoot);
    this.themeKey = JSON.stringify(this.theme);
    this.offs.push(watchTheme(() => this.checkTheme()));
    if (typeof ResizeObserver === "function" && elements.length) {
      const ro = new ResizeObserver(() => {
        if (this.destroyed) return;
        // the first layout is also the first moment host CSS variables can be read
        this.checkTheme();
        this.resized();
      });
      for (const el of elements) ro.observe(el);
      this.offs.push(() => ro.disconnect());
    }
  }

  checkTheme() {
    if (this.destroyed) return;
    const t = readTheme(this.themeRoot);
    const key = JSON.stringify(t);
    if (key === this.themeKey) return;
    this.theme = t;
    this.themeKey = key;
    this.themeChanged(t);
  }

  themeChanged() {}

  resized() {}

  destroy() {
    this.destroyed = true;
    for (const off of this.offs.splice(0)) off();
  }
}
