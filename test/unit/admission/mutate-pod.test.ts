// The pure pod mutation: what is injected, what is refused, and that the patch reproduces the mutated copy.
import { describe, expect, it } from "vitest";
import {
  ANNOTATION_AUDIENCES,
  ANNOTATION_INJECTED,
  ANNOTATION_ISSUER_CA,
  ANNOTATION_SCOPES,
  ANNOTATION_SKIP_CONTAINERS,
  ENV_APP_ENDPOINT,
  ENV_APP_TOKEN_DIR,
  ENV_ISSUER_CA_FILE,
  ENV_ISSUER_URL,
  ENV_SIDECAR_PORT,
  ENV_SUBJECT_TOKEN_FILE,
  ENV_TOKEN_DIR,
  ENV_TOKENS,
  MAX_AUDIENCES_PER_POD,
  SIDECAR_CONTAINER_NAME,
  VOLUME_ISSUER_CA,
  VOLUME_SUBJECT_TOKEN,
  VOLUME_TOKENS,
} from "../../../api/constants.ts";
import type { AdmissionErrorCode } from "../../../controller/src/admission/errors.ts";
import { isAdmissionError } from "../../../controller/src/admission/errors.ts";
import { applyPatch, type Json } from "../../../controller/src/admission/json-patch.ts";
import { tokenNameForAudience } from "../../../controller/src/admission/annotations.ts";
import { mutatePod } from "../../../controller/src/admission/mutate-pod.ts";
import type { Container } from "../../../controller/src/admission/pod-types.ts";
import { injectionConfig, pod } from "./fixtures.ts";

function refusal(run: () => unknown): { code: AdmissionErrorCode; message: string } {
  try {
    run();
  } catch (error) {
    if (isAdmissionError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error("expected a refusal");
}

function envOf(container: Container | undefined): Record<string, string | undefined> {
  return Object.fromEntries((container?.env ?? []).map((e) => [e.name, e.value]));
}

describe("mutatePod", () => {
  it("injects a native sidecar as the first init container with restartPolicy Always and a startup probe", () => {
    const { pod: mutated } = mutatePod(pod({ initContainers: ["migrate"] }), injectionConfig());
    const init = mutated.spec.initContainers ?? [];
    expect(init.map((c) => c.name)).toEqual([SIDECAR_CONTAINER_NAME, "migrate"]);
    expect(init[0]?.restartPolicy).toBe("Always");
    expect(init[0]?.startupProbe?.httpGet.path).toBe("/readyz");
    expect(mutated.spec.containers.map((c) => c.name)).toEqual(["app"]);
  });

  it("injects a regular sidecar container after the app's when native sidecars are unsupported", () => {
    const { pod: mutated } = mutatePod(pod({ initContainers: ["migrate"] }), injectionConfig({ nativeSidecars: false }));
    expect(mutated.spec.containers.map((c) => c.name)).toEqual(["app", SIDECAR_CONTAINER_NAME]);
    const sidecar = mutated.spec.containers[1];
    expect(sidecar?.restartPolicy).toBeUndefined();
    expect(sidecar?.startupProbe).toBeUndefined();
    // Init containers run before a regular sidecar exists, so they get nothing.
    expect(mutated.spec.initContainers?.[0]?.volumeMounts).toBeUndefined();
  });

  it("adds the projected token volume for Tessera's audience, the in-memory token volume and the CA volume", () => {
    const { pod: mutated } = mutatePod(pod(), injectionConfig());
    expect(mutated.spec.volumes).toEqual([
      {
        name: VOLUME_SUBJECT_TOKEN,
        projected: {
          sources: [{ serviceAccountToken: { audience: "tessera.dev/issuer", expirationSeconds: 3600, path: "token" } }],
        },
      },
      { name: VOLUME_TOKENS, emptyDir: { medium: "Memory", sizeLimit: "4Mi" } },
      { name: VOLUME_ISSUER_CA, configMap: { name: "tessera-issuer-ca", items: [{ key: "ca.crt", path: "ca.crt" }] } },
    ]);
  });

  it("projects an inline CA bundle from a pod annotation through a downwardAPI volume", () => {
    const pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    const { pod: mutated } = mutatePod(pod(), injectionConfig({ issuerCa: { kind: "inline", pem } }));
    expect(mutated.metadata?.annotations?.[ANNOTATION_ISSUER_CA]).toBe(pem);
    const volume = mutated.spec.volumes?.find((v) => v.name === VOLUME_ISSUER_CA);
    expect(volume?.["downwardAPI"]).toEqual({
      items: [{ path: "ca.crt", fieldRef: { fieldPath: `metadata.annotations['${ANNOTATION_ISSUER_CA}']` } }],
    });
  });

  it("configures the sidecar through the ENV_* contract with one token per audience", () => {
    const annotations = { [ANNOTATION_AUDIENCES]: "https://payments.example.com, orders", [ANNOTATION_SCOPES]: "read write" };
    const { pod: mutated } = mutatePod(pod({ annotations }), injectionConfig());
    const env = envOf(mutated.spec.initContainers?.[0]);
    expect(env[ENV_ISSUER_URL]).toBe("https://tessera.tessera-system.svc:8443");
    expect(env[ENV_ISSUER_CA_FILE]).toBe("/var/run/secrets/tessera.dev/issuer-ca/ca.crt");
    expect(env[ENV_SUBJECT_TOKEN_FILE]).toBe("/var/run/secrets/tessera.dev/serviceaccount/token");
    expect(env[ENV_TOKEN_DIR]).toBe("/var/run/tessera/tokens");
    expect(env[ENV_SIDECAR_PORT]).toBe("8777");
    expect(JSON.parse(env[ENV_TOKENS] ?? "")).toEqual([
      { name: "payments.example.com", audience: "https://payments.example.com", scopes: ["read", "write"] },
      { name: "orders", audience: "orders", scopes: ["read", "write"] },
    ]);
  });

  it("hardens the sidecar and gives it the configured resources", () => {
    const sidecar = mutatePod(pod(), injectionConfig()).pod.spec.initContainers?.[0];
    expect(sidecar?.securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(sidecar?.resources).toEqual({ requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "64Mi" } });
    expect(sidecar?.volumeMounts).toContainEqual({ name: VOLUME_TOKENS, mountPath: "/var/run/tessera/tokens" });
  });

  it("mounts the token volume read-only and sets the env in every application container of several", () => {
    const { pod: mutated } = mutatePod(pod({ containers: ["app", "worker", "proxy"] }), injectionConfig());
    for (const container of mutated.spec.containers) {
      expect(container.volumeMounts).toEqual([{ name: VOLUME_TOKENS, mountPath: "/var/run/tessera/tokens", readOnly: true }]);
      expect(envOf(container)).toEqual({ [ENV_APP_ENDPOINT]: "http://127.0.0.1:8777", [ENV_APP_TOKEN_DIR]: "/var/run/tessera/tokens" });
    }
  });

  it("leaves skipped containers without the token volume and env", () => {
    const annotations = { [ANNOTATION_SKIP_CONTAINERS]: "proxy, migrate" };
    const { pod: mutated } = mutatePod(pod({ annotations, containers: ["app", "proxy"], initContainers: ["migrate"] }), injectionConfig());
    const byName = new Map([...mutated.spec.containers, ...(mutated.spec.initContainers ?? [])].map((c) => [c.name, c]));
    expect(byName.get("app")?.volumeMounts).toHaveLength(1);
    expect(byName.get("proxy")?.volumeMounts).toBeUndefined();
    expect(byName.get("proxy")?.env).toBeUndefined();
    expect(byName.get("migrate")?.volumeMounts).toBeUndefined();
  });

  it("keeps an env value the container sets itself", () => {
    const raw = pod();
    const mutated = mutatePod(
      { ...(raw as object), spec: { containers: [{ name: "app", env: [{ name: ENV_APP_ENDPOINT, value: "http://custom" }] }] } },
      injectionConfig(),
    ).pod;
    expect(envOf(mutated.spec.containers[0])[ENV_APP_ENDPOINT]).toBe("http://custom");
  });

  it("gives the pod an fsGroup so the application can read the sidecar's group-readable token files", () => {
    const mutated = mutatePod(pod(), injectionConfig()).pod;
    expect(mutated.spec["securityContext"]).toEqual({ fsGroup: 65532, fsGroupChangePolicy: "OnRootMismatch" });
  });

  it("keeps the pod's own fsGroup", () => {
    const raw = pod() as { spec: Record<string, Json> };
    const mutated = mutatePod({ ...raw, spec: { ...raw.spec, securityContext: { fsGroup: 2000 } } }, injectionConfig()).pod;
    expect(mutated.spec["securityContext"]).toEqual({ fsGroup: 2000 });
  });

  it("points the startup probe and the sidecar at a separate health port when one is configured", () => {
    const sidecar = mutatePod(pod(), injectionConfig({ healthPort: 8778 })).pod.spec.initContainers?.[0];
    expect(sidecar?.startupProbe?.httpGet.port).toBe(8778);
    expect(envOf(sidecar)["TESSERA_SIDECAR_HEALTH_PORT"]).toBe("8778");
  });

  it("marks the pod injected", () => {
    expect(mutatePod(pod(), injectionConfig()).pod.metadata?.annotations?.[ANNOTATION_INJECTED]).toBe("0.1.0");
  });

  it.each([
    ["a single container, native sidecar", pod(), injectionConfig()],
    ["several containers and init containers", pod({ containers: ["a", "b"], initContainers: ["i"] }), injectionConfig()],
    ["a regular sidecar", pod({ containers: ["a", "b"] }), injectionConfig({ nativeSidecars: false })],
    ["existing volumes and annotations", pod({ volumes: ["data"], annotations: { [ANNOTATION_AUDIENCES]: "a/b~c" } }), injectionConfig()],
    ["an inline CA", pod(), injectionConfig({ issuerCa: { kind: "inline", pem: "PEM" } })],
  ])("produces a patch that, applied to the original, equals the mutated copy: %s", (_name, original, config) => {
    const { pod: mutated, patch } = mutatePod(original, config);
    expect(patch.length).toBeGreaterThan(0);
    expect(applyPatch(original, patch)).toEqual(JSON.parse(JSON.stringify(mutated)));
  });

  it.each([
    ["native", injectionConfig()],
    ["regular", injectionConfig({ nativeSidecars: false })],
  ])("leaves an already injected pod as it is (%s sidecar), so reinvocation is safe", (_name, config) => {
    const once = mutatePod(pod({ containers: ["a", "b"] }), config).pod as unknown as Json;
    const twice = mutatePod(once, config);
    expect(twice.patch).toEqual([]);
  });

  it("wires a container another webhook added after injection when reinvoked", () => {
    const once = mutatePod(pod(), injectionConfig()).pod;
    once.spec.containers.push({ name: "late" });
    const again = mutatePod(JSON.parse(JSON.stringify(once)) as Json, injectionConfig());
    expect(again.pod.spec.containers.find((c) => c.name === "late")?.volumeMounts).toHaveLength(1);
    expect(again.pod.spec.initContainers?.filter((c) => c.name === SIDECAR_CONTAINER_NAME)).toHaveLength(1);
  });

  it.each<[string, Json, AdmissionErrorCode, string]>([
    ["a hostNetwork pod", pod({ hostNetwork: true }), "HostNetworkNotAllowed", "hostNetwork"],
    ["a pod with its own container named like the sidecar", pod({ containers: ["app", SIDECAR_CONTAINER_NAME] }), "NameClash", SIDECAR_CONTAINER_NAME],
    ["a pod with a volume named like the token volume", pod({ volumes: ["data", VOLUME_TOKENS] }), "NameClash", VOLUME_TOKENS],
    ["a pod with a volume named like the subject token volume", pod({ volumes: [VOLUME_SUBJECT_TOKEN] }), "NameClash", VOLUME_SUBJECT_TOKEN],
    ["an empty audiences annotation", pod({ annotations: { [ANNOTATION_AUDIENCES]: " , " } }), "InvalidAnnotation", ANNOTATION_AUDIENCES],
    ["an audience with whitespace", pod({ annotations: { [ANNOTATION_AUDIENCES]: "a b" } }), "InvalidAnnotation", ANNOTATION_AUDIENCES],
    ["Tessera's own audience", pod({ annotations: { [ANNOTATION_AUDIENCES]: "tessera.dev/issuer" } }), "InvalidAnnotation", ANNOTATION_AUDIENCES],
    ["two audiences sharing a file name", pod({ annotations: { [ANNOTATION_AUDIENCES]: "https://x.io,http://x.io" } }), "InvalidAnnotation", ANNOTATION_AUDIENCES],
    ["a scope with a quote", pod({ annotations: { [ANNOTATION_SCOPES]: 'read "write"' } }), "InvalidAnnotation", ANNOTATION_SCOPES],
    ["an empty scopes annotation", pod({ annotations: { [ANNOTATION_SCOPES]: "  " } }), "InvalidAnnotation", ANNOTATION_SCOPES],
    ["skipping a container the pod does not have", pod({ annotations: { [ANNOTATION_SKIP_CONTAINERS]: "nope" } }), "InvalidAnnotation", ANNOTATION_SKIP_CONTAINERS],
    ["skipping an invalid container name", pod({ annotations: { [ANNOTATION_SKIP_CONTAINERS]: "Bad_Name" } }), "InvalidAnnotation", ANNOTATION_SKIP_CONTAINERS],
    ["a pod without containers", { spec: { containers: [] } }, "InvalidPod", "spec.containers"],
    ["a pod whose env is not a list", { spec: { containers: [{ name: "a", env: {} }] } }, "InvalidPod", "spec.containers[0].env"],
  ])("refuses %s with a message naming the cause", (_name, input, code, mentioned) => {
    const { code: actual, message } = refusal(() => mutatePod(input, injectionConfig()));
    expect(actual).toBe(code);
    expect(message).toContain(mentioned);
  });

  it("refuses more audiences than the configured limit, naming the limit and the annotation, and counts duplicates once", () => {
    const five = pod({ annotations: { [ANNOTATION_AUDIENCES]: "a1,a2,a3,a4,a5" } });
    const { code, message } = refusal(() => mutatePod(five, injectionConfig({ maxAudiencesPerPod: 4 })));
    expect(code).toBe("InvalidAnnotation");
    expect(message).toContain(ANNOTATION_AUDIENCES);
    expect(message).toContain("at most 4 (TESSERA_MAX_AUDIENCES_PER_POD)");
    const repeated = pod({ annotations: { [ANNOTATION_AUDIENCES]: "a1,a2,a3,a4,a1" } });
    expect(mutatePod(repeated, injectionConfig({ maxAudiencesPerPod: 4 })).patch.length).toBeGreaterThan(0);
  });

  it("holds a pod to the sidecar's own limit of MAX_AUDIENCES_PER_POD by default and whatever the setting", () => {
    const audiences = (n: number) => Array.from({ length: n }, (_, i) => `svc-${i}`).join(",");
    expect(mutatePod(pod({ annotations: { [ANNOTATION_AUDIENCES]: audiences(MAX_AUDIENCES_PER_POD) } }), injectionConfig()).patch.length).toBeGreaterThan(0);
    const over = pod({ annotations: { [ANNOTATION_AUDIENCES]: audiences(MAX_AUDIENCES_PER_POD + 1) } });
    expect(refusal(() => mutatePod(over, injectionConfig())).code).toBe("InvalidAnnotation");
    expect(refusal(() => mutatePod(over, injectionConfig({ maxAudiencesPerPod: 1000 }))).code).toBe("InvalidAnnotation");
  });

  it("refuses an app container that already mounts something at the token directory", () => {
    const input: Json = {
      spec: { containers: [{ name: "app", volumeMounts: [{ name: "other", mountPath: "/var/run/tessera/tokens" }] }] },
    };
    const { code, message } = refusal(() => mutatePod(input, injectionConfig()));
    expect(code).toBe("NameClash");
    expect(message).toContain("skip-containers");
  });

  it("does not touch the input", () => {
    const input = pod({ containers: ["a"] });
    const before = JSON.stringify(input);
    mutatePod(input, injectionConfig());
    expect(JSON.stringify(input)).toBe(before);
  });
});

describe("tokenNameForAudience", () => {
  it.each([
    ["drops the scheme", "https://payments.example.com", "payments.example.com"],
    ["replaces path separators", "api://orders/v1", "orders_v1"],
    ["starts with a letter or digit", "-._orders", "orders"],
    ["stays within 63 characters", `https://${"a".repeat(100)}`, "a".repeat(63)],
  ])("%s", (_name, audience, expected) => {
    expect(tokenNameForAudience(audience)).toBe(expected);
    expect(expected).toMatch(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/);
  });
});
