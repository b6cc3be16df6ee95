// What the webhook changed in a pod, read from the submitted and the stored object.
import type { V1Pod, V1Volume } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { describeInjection, describeVolume } from "../../../examples/demo/injection-view.ts";
import { kubeBody } from "../../controlplane/plain.ts";

const submitted = kubeBody<V1Pod>({
  metadata: { name: "p", annotations: { "tessera.dev/audiences": "https://payments.example" } },
  spec: { serviceAccountName: "sa", containers: [{ name: "api", image: "api:1", env: [{ name: "MODE", value: "prod" }] }] },
});

const stored = kubeBody<V1Pod>({
  metadata: { name: "p", annotations: { "tessera.dev/audiences": "https://payments.example", "tessera.dev/injected": "0.1.0" } },
  spec: {
    serviceAccountName: "sa",
    initContainers: [
      {
        name: "tessera-sidecar",
        image: "tessera/sidecar:dev",
        restartPolicy: "Always",
        env: [{ name: "TESSERA_ISSUER_URL", value: "https://localhost:8443" }],
        volumeMounts: [{ name: "tessera-tokens", mountPath: "/var/run/tessera/tokens" }],
      },
    ],
    containers: [
      {
        name: "api",
        image: "api:1",
        env: [
          { name: "MODE", value: "prod" },
          { name: "TESSERA_ENDPOINT", value: "http://127.0.0.1:8777" },
        ],
      },
    ],
    volumes: [{ name: "tessera-tokens", emptyDir: { medium: "Memory", sizeLimit: "4Mi" } }],
  },
});

describe("describeInjection", () => {
  const injection = describeInjection(submitted, stored, "tessera-sidecar");

  it("finds the sidecar as a native sidecar with its environment and mounts", () => {
    expect(injection.sidecar).toEqual({
      name: "tessera-sidecar",
      image: "tessera/sidecar:dev",
      kind: "native sidecar: init container with restartPolicy Always",
      env: { TESSERA_ISSUER_URL: "https://localhost:8443" },
      mounts: [{ volume: "tessera-tokens", mountPath: "/var/run/tessera/tokens", readOnly: false }],
    });
  });

  it("lists only what was added: volumes, the application's new variables and annotations", () => {
    expect(injection.volumes).toEqual([{ name: "tessera-tokens", source: "emptyDir in Memory, at most 4Mi" }]);
    expect(injection.appEnv).toEqual([{ container: "api", env: { TESSERA_ENDPOINT: "http://127.0.0.1:8777" } }]);
    expect(injection.annotations).toEqual({ "tessera.dev/injected": "0.1.0" });
  });

  it("finds no sidecar in a pod the webhook left alone", () => {
    expect(describeInjection(submitted, submitted, "tessera-sidecar").sidecar).toBeUndefined();
  });
});

describe("describeVolume", () => {
  it.each([
    [
      "a projected service-account token with its audience and lifetime",
      { name: "t", projected: { sources: [{ serviceAccountToken: { audience: "tessera.dev/issuer", expirationSeconds: 3600, path: "token" } }] } },
      "projected service-account token, audience tessera.dev/issuer, 3600 s, file token",
    ],
    ["a ConfigMap with its items", { name: "c", configMap: { name: "tessera-issuer-ca", items: [{ key: "ca.crt", path: "ca.crt" }] } }, "ConfigMap tessera-issuer-ca (ca.crt -> ca.crt)"],
  ])("names %s", (_name, volume, expected) => {
    expect(describeVolume(kubeBody<V1Volume>(volume))).toBe(expected);
  });
});
