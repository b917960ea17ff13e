// VAEWidget front end (anywidget ESM entry point).
//
// initialize(): once per model: the shared per-_uid metric history.
// render(): once per view (display(w) twice gives two views): builds the
// DOM, says hello and returns a cleanup function.

import "uplot/dist/uPlot.min.css";
import "../common/base.css";
import "./vae.css";
import { hello } from "../common/schema.js";
import { getShared } from "./state.js";
import { VAEView } from "./view.js";

export default {
  initialize({ model }) {
    const shared = getShared(model);
    return () => shared.dispose();
  },
  render({ model, el }) {
    const shared = getShared(model);
    const view = new VAEView(model, el, shared);
    shared.views.add(view);
    model.send(hello());
    return () => {
      shared.views.delete(view);
      view.destroy();
    };
  },
};
