// The demo's clean-up list: everything runs once, webhooks first, the rest newest first, failures reported not thrown.
import { describe, expect, it } from "vitest";
import { Cleanup } from "../../../examples/demo/cleanup.ts";

describe("Cleanup", () => {
  it("runs the actions marked first before the others, each group newest first", async () => {
    const order: string[] = [];
    const cleanup = new Cleanup();
    for (const [what, first] of [["temp", false], ["webhooks", true], ["controller", false], ["pod", false]] as const) {
      cleanup.add(what, () => Promise.resolve(void order.push(what)), { first });
    }
    await cleanup.run();
    expect(order).toEqual(["webhooks", "pod", "controller", "temp"]);
  });

  it("reports a failing action and still runs the rest", async () => {
    const cleanup = new Cleanup();
    cleanup.add("a", () => Promise.resolve());
    cleanup.add("b", () => Promise.reject(new Error("gone wrong")));
    expect(await cleanup.run()).toEqual([
      { what: "b", ok: false, error: "gone wrong" },
      { what: "a", ok: true },
    ]);
  });

  it("runs each action only once however often it is asked", async () => {
    let runs = 0;
    const cleanup = new Cleanup();
    cleanup.add("a", () => {
      runs++;
      return Promise.resolve();
    });
    await Promise.all([cleanup.run(), cleanup.run()]);
    await cleanup.run();
    expect(runs).toBe(1);
  });
});
