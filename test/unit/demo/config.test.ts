// The demo's command line and environment.
import { describe, expect, it } from "vitest";
import { DemoUsageError, loadDemoConfig } from "../../../examples/demo/config.ts";

describe("loadDemoConfig", () => {
  it("uses the local control plane when KUBECONFIG is unset, with colour on a terminal", () => {
    const config = loadDemoConfig([], {}, true, "/c");
    expect(config).toMatchObject({ json: false, color: true, kubeconfigPath: undefined, cacheDir: "/c" });
  });

  it("uses the cluster in KUBECONFIG when it names one file", () => {
    expect(loadDemoConfig([], { KUBECONFIG: "/home/me/.kube/config" }, false, "/c")).toMatchObject({
      kubeconfigPath: "/home/me/.kube/config",
    });
  });

  it.each([
    ["--json", ["--json"], {}, true],
    ["NO_COLOR", [], { NO_COLOR: "1" }, true],
    ["a pipe", [], {}, false],
  ])("has no colour with %s", (_name, argv, env, isTty) => {
    expect(loadDemoConfig(argv, env, isTty, "/c")).toMatchObject({ color: false });
  });

  it("answers --help with the usage", () => {
    expect(loadDemoConfig(["--help"], {}, false, "/c")).toBe("help");
  });

  it.each([
    ["an unknown argument", ["--verbose"], {}],
    ["a KUBECONFIG list", [], { KUBECONFIG: "/a:/b" }],
  ])("refuses %s", (_name, argv, env) => {
    expect(() => loadDemoConfig(argv, env, false, "/c")).toThrow(DemoUsageError);
  });
});
