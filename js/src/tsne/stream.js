// The frame stream of one TSNEWidget model (made once per model by the widget
// factory, common/widget.js): frames (custom messages, float32 or quantised,
// see common/frames.js) are drawn into every view of the model through the
// shared frame loop (common/stream.js). The positions travel only as frames:
// a view that opens later says hello and the kernel sends the latest again.

import { decodePositions } from "../common/frames.js";
import { frameStream } from "../common/stream.js";

export function tsneStream(model, views) {
  const s = {
    positions: new Float32Array(0),
    iteration: null, // from the newest drawn frame
    phase: null,
  };
  const draw = (item) => {
    s.positions = item.positions;
    if (item.id !== undefined) {
      s.iteration = item.iteration ?? s.iteration;
      s.phase = item.phase ?? s.phase;
    }
    return Promise.all([...views].map((v) => v.showFrame(item).catch(() => {})));
  };
  const frame = (msg, buffers) => ({
    id: Number(msg.id),
    positions: decodePositions(msg, buffers?.[0]),
    iteration: msg.iteration,
    phase: msg.phase,
  });
  return Object.assign(s, frameStream(model, views, draw, { frame }));
}
