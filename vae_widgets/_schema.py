"""The message schema between kernel and front end, in one place.

Mirrored by ``js/src/common/schema.js``; change both together.

Kernel -> front end (custom messages, ``widget.send(content, buffers)``):
  {"type": "frame", "id": int, "iteration": int, "phase": str, "key": bool}
      buffers=[float32 x,y,x,y,...], or with "encoding": "u16", "lo": [x, y], "span": [w, h]
      buffers=[uint16 x,y pairs quantised over lo..lo+span] (frames between key frames)
  {"type": "metrics", "rows": [{...}, ...]}                        rows appended to the curves
  {"type": "epoch", "row": {...}}                                  one finished epoch (VAE)
  {"type": "images", "kind": str, "shape": [n, C, H, W], ...}     buffers=[uint8 pixels]

Front end -> kernel:
  {"type": "command", "action": "run" | "pause" | "resume" | "stop"}
  {"type": "command", "action": "set", "params": {name: value}}
  {"type": "ack", "id": int}                                        a frame was drawn
  {"type": "hello"}                                                 a new view wants the latest frame

State that must survive a reload (status, iteration, the latest embedding, the
metric history, the latest image grids) lives in synced traits, not messages.
"""

FRAME = "frame"
METRICS = "metrics"
EPOCH = "epoch"
IMAGES = "images"

COMMAND = "command"
ACK = "ack"
HELLO = "hello"
# t-SNE analysis, both ways: the view asks {"type", "view", "index"} / {"type", "view",
# "indices"}; the kernel answers with the same type and view, buffers=[float32]
REPLAY = "replay"    # one kept frame (scrubber); answer adds iteration, count
TRAILS = "trails"    # kept positions of chosen points; answer adds frames, iterations
# hover text beyond the shipping budget: the view asks {"type", "view", "req", "indices"};
# the kernel answers with the same type, view and req plus "columns", "values" (one list of
# texts per column) and, when thumbnails are fetched too, "thumbnails" (their shape) with
# buffers=[uint8 pixels]
ROWS = "rows"

ACTIONS = ("run", "pause", "resume", "stop", "set")

# widget.status values
IDLE, PREPARING, AFFINITIES, RUNNING, PAUSED, DONE, STOPPED, ERROR = (
    "idle", "preparing", "affinities", "running", "paused", "done", "stopped", "error")
