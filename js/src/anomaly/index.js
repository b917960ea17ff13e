// AnomalyWidget front end (anywidget ESM entry point): every piece of state is
// a synced trait, so render() just builds a view; no shared per-model state.

import "../common/base.css";
import "./anomaly.css";
import { AnomalyView } from "./view.js";

export default {
  render({ model, el }) {
    const view = new AnomalyView(model, el);
    return () => view.destroy();
  },
};
