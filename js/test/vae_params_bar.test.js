// @vitest-environment jsdom
import { describe, expect, it, vi } from "vitest";
import { PARAMS, TEMPERATURE } from "../src/vae/params.js";
import { ParamsBar } from "../src/vae/params_bar.js";

describe("ParamsBar", () => {
  it("a field per parameter in a row; the temperature slider apart, for the samples panel", () => {
    const host = document.createElement("div");
    document.body.append(host);
    const onSet = vi.fn();
    const bar = new ParamsBar(host, { onSet });
    expect(bar.el.parentNode).toBe(host);
    expect([...bar.el.querySelectorAll(".vw-param")].map((e) => e.dataset.param)).toEqual(PARAMS.map((p) => p.name));
    expect(bar.el.contains(bar.temperature.el)).toBe(false);
    expect(bar.names).toEqual([...PARAMS.map((p) => p.name), TEMPERATURE.name]);
    expect(bar.el.querySelector("select[data-param=kl_schedule]")).not.toBe(null);

    bar.set("beta", 1);
    bar.set("sample_temperature", 0.8);
    const beta = bar.el.querySelector("[data-param=beta]");
    expect(beta.value).toBe("1");
    expect(bar.temperature.input.value).toBe("0.8");
    // an edit is sent; the kernel refuses it (a notice): back to the kernel's value
    beta.value = "-2";
    beta.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter" }));
    expect(onSet).toHaveBeenCalledWith("beta", -2);
    bar.revert();
    expect(beta.value).toBe("1");
    bar.destroy();
    expect(host.children.length).toBe(0);
  });
});
