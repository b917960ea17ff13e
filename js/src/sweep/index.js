// TSNESweepWidget front end (anywidget ESM entry point): small multiples of
// t-SNE runs, one per parameter value, with a lasso linked across panels.

import "../common/base.css";
import "./sweep.css";
import { hello } from "../common/schema.js";
import { getShared } from "./state.js";
import { SweepView } from "./view.js";

export default {
  initialize({ model }) {
    const shared = getShared(model);
    return () => shared.dispose();
  },
  render({ model, el }) {
    const shared = getShared(model);
    const view = new SweepView(model, el, shared);
    shared.views.add(view);
    model.send(hello());
    return () => {
      shared.views.delete(view);
      view.destroy();
    };
  },
};
