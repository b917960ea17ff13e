// The frame stream of one TSNEWidget model (made once per model by the widget
// factory, common/widget.js): frames (custom messages, float32 or quantised,
// see common/frames.js) are drawn into every view of the model through the
// shared frame loop (common/stream.js). The positions travel only as frames:
// a view that opens later says hello and the kernel sends the latest again.

import { decodePositions } from "../common/frames.js";
import { FRAME } from "../common/schema.js";
import { frameLoop, listenAll } from "../common/stream.js";

export function tsneStream(model, views) {
  const s = {
    positions: new Float32Array(0),
    iteration: null, // from the newest drawn frame
    phase: null,
  };
  const loop = frameLoop(model, (item) => {
    s.positions = item.positions;
    if (item.id !== undefined) {
      s.iteration = item.iteration ?? s.iteration;
      s.phase = item.phase ?? s.phase;
    }
    return Promise.all([...views].map((v) => v.showFrame(item).catch(() => {})));
  });
  s.pipe = loop.pipe;
  s.interacting = loop.interacting;
  s.frameStats = loop.stats;
  const off = listenAll(model, [
    [
      "msg:custom",
      (msg, buffers) => {
        if (!msg || msg.type !== FRAME) return;
        const positions = decodePositions(msg, buffers?.[0]);
        loop.enqueue({ id: Number(msg.id), positions, iteration: msg.iteration, phase: msg.phase });
        for (const v of views) v.onFrameReceived(loop.pipe.received);
      },
    ],
  ]);
  s.dispose = () => {
    off();
    loop.dispose();
  };
  return s;
}
