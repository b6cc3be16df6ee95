// The sidecar's injected environment with volume paths moved to local directories, and nothing else changed.
import { describe, expect, it } from "vitest";
import { DemoStepError } from "../../../examples/demo/runner.ts";
import { remapSidecarEnv } from "../../../examples/demo/sidecar-env.ts";

const mounts = [
  { name: "tessera-tokens", mountPath: "/var/run/tessera/tokens" },
  { name: "tessera-subject-token", mountPath: "/var/run/secrets/tessera" },
  { name: "tessera-issuer-ca", mountPath: "/var/run/secrets/tessera/ca" },
];
const dirs = new Map([
  ["tessera-tokens", "/tmp/d/tokens"],
  ["tessera-subject-token", "/tmp/d/subject"],
  ["tessera-issuer-ca", "/tmp/d/ca"],
]);

describe("remapSidecarEnv", () => {
  it.each([
    ["moves a file under a mount into that volume's directory", "/var/run/secrets/tessera/token", "/tmp/d/subject/token"],
    ["prefers the deepest mount when mounts nest", "/var/run/secrets/tessera/ca/ca.crt", "/tmp/d/ca/ca.crt"],
    ["moves the mount path itself", "/var/run/tessera/tokens", "/tmp/d/tokens"],
    ["leaves a URL alone", "https://localhost:8443", "https://localhost:8443"],
    ["leaves a path that only shares a prefix with a mount alone", "/var/run/tessera/tokens-old", "/var/run/tessera/tokens-old"],
  ])("%s", (_name, value, expected) => {
    expect(remapSidecarEnv([{ name: "X", value }], mounts, dirs).env["X"]).toBe(expected);
  });

  it("lists exactly the variables it changed", () => {
    const result = remapSidecarEnv(
      [
        { name: "TESSERA_ISSUER_URL", value: "https://localhost:8443" },
        { name: "TESSERA_TOKEN_DIR", value: "/var/run/tessera/tokens" },
      ],
      mounts,
      dirs,
    );
    expect(result.remapped).toEqual([{ name: "TESSERA_TOKEN_DIR", injected: "/var/run/tessera/tokens", local: "/tmp/d/tokens" }]);
  });

  it.each([
    ["refuses a variable set from valueFrom, which only a kubelet can resolve", [{ name: "X", valueFrom: { fieldRef: {} } }], dirs],
    ["refuses a mount the demo wrote no directory for", [{ name: "X", value: "/var/run/tessera/tokens/a" }], new Map<string, string>()],
  ])("%s", (_name, env, localDirs) => {
    expect(() => remapSidecarEnv(env, mounts, localDirs)).toThrow(DemoStepError);
  });
});
