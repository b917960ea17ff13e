// One widget factory for the widgets with a stream (TSNEWidget, TSNESweepWidget,
// VAEWidget), after
// quak's lib/widget.ts: anywidget calls the default export once per widget
// model, so each model's state (its frame stream and its views) lives in this
// closure. Nothing is keyed on a synced id at module level, and the model
// proxies anywidget hands to initialize() and render() may differ freely.
//
//   export default widgetFactory({ createStream: (model, views) => stream, View });
//
// createStream(model, views) returns {dispose()} and whatever the views need
// (frames, counters); views is the live Set of this model's views. View is a
// class: new View(model, el, stream), with destroy().

import { hello } from "./schema.js";

export function widgetFactory({ createStream, View }) {
  return () => {
    const views = new Set();
    let stream = null;
    const streamFor = (model) => {
      if (!stream) stream = createStream(model, views);
      return stream;
    };
    return {
      initialize({ model }) {
        try {
          streamFor(model);
        } catch (err) {
          console.error("vae_widgets: the widget could not start", err);
          throw err;
        }
        return () => {
          stream?.dispose();
          stream = null;
        };
      },
      render({ model, el }) {
        let view;
        try {
          view = new View(model, el, streamFor(model));
        } catch (err) {
          console.error("vae_widgets: the view could not be built", err);
          throw err;
        }
        views.add(view);
        model.send(hello()); // the kernel answers with the latest frame
        return () => {
          views.delete(view);
          view.destroy();
        };
      },
    };
  };
}
