// AnomalyWidget front end (anywidget ESM entry point), on the same widget factory
// as the others (common/widget.js). Every piece of its state is a synced trait,
// so its per-model state is empty and render() just builds a view.

import "../common/base.css";
import "./anomaly.css";
import { widgetFactory } from "../common/widget.js";
import { AnomalyView } from "./view.js";

export default widgetFactory({ createStream: () => ({ dispose() {} }), View: AnomalyView });
