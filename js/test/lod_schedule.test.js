import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CAMERA_REST_MAX_MS, CAMERA_REST_MS, FRAME_REST_MS, MotionClock } from "../src/common/lod_schedule.js";

describe("MotionClock: when a thinned map is drawn whole again", () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] }));
  afterEach(() => vi.useRealTimers());

  it("moves while frames come and rests a frame-rest after the last one", () => {
    const clock = new MotionClock({ msPerPoint: 0 }, () => {});
    expect(clock.moving(1000)).toBe(false);
    clock.frame(performance.now());
    expect(clock.moving(1000)).toBe(true);
    vi.advanceTimersByTime(FRAME_REST_MS + 1);
    expect(clock.moving(1000)).toBe(false);
  });

  it("a lasso keeps it moving until the lasso ends; a camera move for the camera rest", () => {
    const clock = new MotionClock({ msPerPoint: 0 }, () => {});
    clock.interacted(true);
    vi.advanceTimersByTime(10_000);
    expect(clock.moving(10)).toBe(true);
    clock.lassoing = false;
    expect(clock.moving(10)).toBe(false);
    clock.interacted();
    expect(clock.moving(10)).toBe(true);
    vi.advanceTimersByTime(CAMERA_REST_MS + 1);
    expect(clock.moving(10)).toBe(false);
  });

  it("a costly whole map waits longer (1.5x its draw time, at most the cap) and the rest is called once", () => {
    const due = vi.fn();
    const clock = new MotionClock({ msPerPoint: 0.001 }, due);
    expect(clock.cameraRest(100)).toBe(CAMERA_REST_MS);          // 0.1 ms to draw: the floor
    expect(clock.cameraRest(1_000_000)).toBe(1500);              // 1 s to draw
    expect(clock.cameraRest(10_000_000)).toBe(CAMERA_REST_MAX_MS);
    clock.schedule(1_000_000);
    clock.schedule(1_000_000);                                    // rescheduled, not doubled
    vi.advanceTimersByTime(1499);
    expect(due).not.toHaveBeenCalled();
    vi.advanceTimersByTime(2);
    expect(due).toHaveBeenCalledTimes(1);
    clock.schedule(10);
    clock.cancel();
    vi.advanceTimersByTime(5000);
    expect(due).toHaveBeenCalledTimes(1);
  });
});
