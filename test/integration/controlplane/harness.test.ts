// The harness itself on a private control plane: apiserver restarts keep etcd's data, an external JWT issuer that
// is not up yet does not stop the apiserver, and stop() leaves nothing behind.
import { access } from "node:fs/promises";
import type { V1ConfigMap } from "@kubernetes/client-node";
import { CoreV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ControlPlaneError } from "../../controlplane/errors.ts";
import { startControlPlane, type ControlPlane } from "../../controlplane/harness.ts";
import { freeLoopbackPort } from "../../controlplane/ports.ts";
import { controlPlaneInfo, kubeBody } from "../support/index.ts";

describe("a private control plane with an external JWT issuer configured", () => {
  let controlPlane: ControlPlane;

  beforeAll(async () => {
    // Nothing listens on this port: the apiserver must still come up (Tessera starts after it).
    const issuerPort = await freeLoopbackPort();
    controlPlane = await startControlPlane({
      binaries: controlPlaneInfo().binaries,
      authenticationConfig: {
        apiVersion: "apiserver.config.k8s.io/v1beta1",
        kind: "AuthenticationConfiguration",
        jwt: [
          {
            issuer: {
              url: `https://127.0.0.1:${issuerPort}`,
              audiences: ["kubernetes"],
              certificateAuthority: controlPlaneInfo().caPem,
            },
            claimMappings: { username: { claim: "sub", prefix: "tessera:" } },
          },
        ],
      },
    });
  });

  afterAll(async () => {
    await controlPlane.stop();
  });

  it("starts while the issuer is unreachable", async () => {
    const core = controlPlane.kubeConfig.makeApiClient(CoreV1Api);
    const namespaces = await core.listNamespace();
    expect(namespaces.items.map((n) => n.metadata?.name)).toContain("default");
  });

  it("keeps stored objects across an apiserver restart on the same port", async () => {
    const core = controlPlane.kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespacedConfigMap({
      namespace: "default",
      body: kubeBody<V1ConfigMap>({ metadata: { name: "survives-restart" }, data: { k: "v" } }),
    });
    await controlPlane.restartApiserver();
    const read = await core.readNamespacedConfigMap({ namespace: "default", name: "survives-restart" });
    expect(read.data).toEqual({ k: "v" });
  });

  it("refuses to start a second apiserver while one runs", async () => {
    await expect(controlPlane.startApiserver()).rejects.toMatchObject({ code: "BAD_STATE" });
  });

  it("removes its scratch directory on stop, and stopping twice is harmless", async () => {
    const scratch = await startControlPlane({ binaries: controlPlaneInfo().binaries });
    await scratch.stop();
    await scratch.stop();
    await expect(access(scratch.tempDir)).rejects.toThrow();
    await expect(scratch.startApiserver()).rejects.toBeInstanceOf(ControlPlaneError);
  });
});
