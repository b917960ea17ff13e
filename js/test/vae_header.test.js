// @vitest-environment jsdom
import { describe, expect, it, vi } from "vitest";
import { HeaderBar, STATUS_TEXT, progressOf } from "../src/vae/header.js";

function header() {
  const host = document.createElement("div");
  const onCommand = vi.fn();
  const hb = new HeaderBar(host, { onCommand, root: () => host });
  return { host, hb, onCommand };
}

describe("progressOf", () => {
  it("epoch / target and the step; without a target: epoch + the epochs a click trains", () => {
    expect(progressOf({ epoch: 2.5, step: 1234, targetEpoch: 10, epochs: 10 })).toEqual({ text: "epoch 2.5 / 10 · step 1,234", fraction: 0.25 });
    expect(progressOf({ epoch: 3, step: 30, targetEpoch: 0, epochs: 5 })).toEqual({ text: "epoch 3 / 8 · step 30", fraction: 0 });
    expect(progressOf({ epoch: 12, targetEpoch: 10 }).fraction).toBe(1);
  });
});

describe("HeaderBar", () => {
  it("header and toolbar in the host; the status shown in words", () => {
    const { host, hb } = header();
    expect([...host.children].map((e) => e.className)).toEqual(["vw-header", "vw-toolbar"]);
    hb.update({ status: "running", step: 5, epoch: 0.5, targetEpoch: 2, epochs: 2 });
    expect(hb.statusEl.textContent).toBe(STATUS_TEXT.running);
    expect(hb.statusEl.className).toBe("vw-status vw-status-running");
    expect(hb.progressText.textContent).toBe("epoch 0.5 / 2 · step 5");
    expect(hb.progressFill.style.width).toMatch(/^25(\.0)?%$/);
    expect(hb.progressBar.getAttribute("aria-valuenow")).toBe("25");
    expect(hb.progressBar.classList.contains("vw-progress-active")).toBe(true);
    hb.setInfo("1,797 samples · images 8×8");
    expect(host.querySelector(".vw-info").textContent).toBe("1,797 samples · images 8×8");
    hb.destroy();
    expect(host.children.length).toBe(0);
  });

  it("buttons: enabled by status, clicks become commands (Train resumes when paused)", () => {
    const { hb, onCommand } = header();
    hb.update({ status: "idle", epochs: 30 });
    expect([hb.runBtn.disabled, hb.pauseBtn.disabled, hb.stopBtn.disabled]).toEqual([false, true, true]);
    expect(hb.runBtn.textContent).toBe("Train");
    expect(hb.runBtn.title).toBe("Train for 30 epochs (continues from the current model)");
    hb.runBtn.click();
    expect(onCommand).toHaveBeenLastCalledWith("run");
    hb.update({ status: "running" });
    expect([hb.runBtn.disabled, hb.pauseBtn.disabled, hb.stopBtn.disabled]).toEqual([true, false, false]);
    hb.pauseBtn.click();
    expect(onCommand).toHaveBeenLastCalledWith("pause");
    hb.update({ status: "paused" });
    expect([hb.runBtn.disabled, hb.pauseBtn.disabled, hb.stopBtn.disabled]).toEqual([false, true, false]);
    expect(hb.runBtn.textContent).toBe("Resume");
    hb.runBtn.click();
    expect(onCommand).toHaveBeenLastCalledWith("resume");
    hb.stopBtn.click();
    expect(onCommand).toHaveBeenLastCalledWith("stop");
    hb.update({ status: "stopped" });
    expect(hb.stopBtn.disabled).toBe(true);
  });

  it("watching a user's loop: no Train (only Resume from a pause), no target epoch, loop-worded buttons", () => {
    const { hb, onCommand } = header();
    hb.update({ status: "idle", mode: "watch", epochs: 1 });
    expect(hb.runBtn.hidden).toBe(true);
    expect(hb.statusEl.textContent).toBe("waiting for your loop");
    hb.update({ status: "running", mode: "watch", epoch: 3, step: 1234, targetEpoch: 0 });
    expect(hb.runBtn.hidden).toBe(true);
    expect(hb.progressText.textContent).toBe("epoch 3 · step 1,234");
    expect(hb.pauseBtn.title).toMatch(/waits inside v\.log\(\)/);
    expect(hb.stopBtn.title).toMatch(/should_stop/);
    hb.update({ status: "paused", mode: "watch", step: 1234 });
    expect(hb.runBtn.hidden).toBe(false);
    expect(hb.runBtn.textContent).toBe("Resume");
    hb.runBtn.click();
    expect(onCommand).toHaveBeenLastCalledWith("resume");
    hb.update({ status: "running", mode: "train", epoch: 3, step: 10, targetEpoch: 5 });
    expect(hb.runBtn.hidden).toBe(false);
    expect(hb.progressText.textContent).toBe("epoch 3 / 5 · step 10");
  });
});
