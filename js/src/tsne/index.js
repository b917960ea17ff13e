// TSNEWidget front end (anywidget ESM entry point).
//
// initialize(): once per model: shared per-_uid state and the frame pipeline.
// render(): once per view (display(w) twice gives two views): builds the
// DOM, says hello (the kernel replies with the latest frame) and returns a
// cleanup function that removes listeners and destroys the scatter and chart.

import "uplot/dist/uPlot.min.css";
import "../common/base.css";
import "./tsne.css";
import { hello } from "../common/schema.js";
import { getShared } from "./state.js";
import { TSNEView } from "./view.js";

export default {
  initialize({ model }) {
    const shared = getShared(model);
    return () => shared.dispose();
  },
  render({ model, el }) {
    const shared = getShared(model);
    const view = new TSNEView(model, el, shared);
    shared.views.add(view);
    model.send(hello());
    return () => {
      shared.views.delete(view);
      view.destroy();
    };
  },
};
