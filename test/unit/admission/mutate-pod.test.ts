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
import type { PodDocument } from "../../../controller/src/admission/pod-document.ts";
import type { Container } from "../../../controller/src/admission/pod-types.ts";
import { hardenedSecurityContext } from "../../../controller/src/admission/sidecar-container.ts";
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

  it.each([
    ["passes no metrics port and opens no container port when none is configured", injectionConfig(), undefined, undefined],
    [
      "passes the metrics port and names it as a container port when one is configured",
      injectionConfig({ metricsPort: 9090 }),
      "9090",
      [{ name: "tessera-metrics", containerPort: 9090, protocol: "TCP" }],
    ],
  ])("%s", (_name, config, expected, ports) => {
    const sidecar = mutatePod(pod(), config).pod.spec.initContainers?.[0];
    expect(envOf(sidecar)["TESSERA_SIDECAR_METRICS_PORT"]).toBe(expected);
    expect(sidecar?.ports).toEqual(ports);
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

  /** An injected pod, as JSON, after `tamper` changed its sidecar (the first init container, or the last container). */
  function injectedWith(tamper: (sidecar: Container, pod: PodDocument) => void, config = injectionConfig()): Json {
    const injected = structuredClone(mutatePod(pod({ annotations: { [ANNOTATION_AUDIENCES]: "orders" } }), config).pod);
    const sidecar = config.nativeSidecars ? injected.spec.initContainers?.[0] : injected.spec.containers.at(-1);
    if (sidecar === undefined) throw new Error("no sidecar injected");
    tamper(sidecar, injected);
    return JSON.parse(JSON.stringify(injected)) as Json;
  }

  const privileged = { ...hardenedSecurityContext(injectionConfig()), privileged: true, runAsNonRoot: false, runAsUser: 0 };

  it.each<[string, (sidecar: Container, pod: PodDocument) => void, string]>([
    ["another image", (s) => (s.image = "evil.example/miner:1"), 'image is "evil.example/miner:1", Tessera injects "registry.example/tessera-sidecar:1.0.0"'],
    ["a privileged security context", (s) => (s.securityContext = privileged), "securityContext differs"],
    ["an added capability", (s) => (s.securityContext = { ...hardenedSecurityContext(injectionConfig()), capabilities: { drop: ["ALL"], add: ["SYS_ADMIN"] } as { drop: string[] } }), "securityContext differs"],
    ["no security context", (s) => delete s.securityContext, "securityContext differs"],
    ["its own command", (s) => (s["command"] = ["sh", "-c", "cat /var/run/secrets/tessera.dev/serviceaccount/token"]), "command differs"],
    ["its own args", (s) => (s["args"] = ["--inspect=0.0.0.0:9229"]), "args differs"],
    ["an extra env variable", (s) => s.env?.push({ name: "NODE_OPTIONS", value: "--require /tmp/x.js" }), "env NODE_OPTIONS is not Tessera's"],
    ["another issuer URL", (s) => s.env?.splice(0, 1, { name: ENV_ISSUER_URL, value: "https://evil.example" }), `env ${ENV_ISSUER_URL} differs`],
    ["other tokens than its annotations ask for", (s) => s.env?.splice(3, 1, { name: ENV_TOKENS, value: "[]" }), `env ${ENV_TOKENS} differs`],
    ["a missing env variable", (s) => s.env?.pop(), "is missing"],
    ["env from a Secret", (s) => (s["envFrom"] = [{ secretRef: { name: "x" } }]), "envFrom is set"],
    ["a host path mounted", (s) => s.volumeMounts?.push({ name: "host", mountPath: "/host" }), "volumeMounts differ"],
    ["the token volume mounted elsewhere", (s) => s.volumeMounts?.splice(0, 1, { name: VOLUME_TOKENS, mountPath: "/tmp" }), "volumeMounts differ"],
    ["an exec liveness probe", (s) => (s["livenessProbe"] = { exec: { command: ["sh", "-c", "id"] } }), "livenessProbe differs"],
    ["a postStart hook", (s) => (s["lifecycle"] = { postStart: { exec: { command: ["sh"] } } }), "lifecycle differs"],
    ["another startup probe port", (s) => s.startupProbe !== undefined && (s.startupProbe.httpGet.port = 1), "startupProbe differs"],
    [
      "the sidecar moved among the regular containers",
      (s, p) => {
        p.spec.initContainers = [];
        p.spec.containers.push(s);
      },
      "it is in containers, Tessera injects it into initContainers",
    ],
    ["a second sidecar", (s, p) => p.spec.containers.push({ ...s, image: "evil.example/miner:1" }), 'the pod has 2 containers named "tessera-sidecar"'],
  ])("refuses a pod marked injected whose sidecar has %s, saying what differs", (_name, tamper, difference) => {
    const { code, message } = refusal(() => mutatePod(injectedWith(tamper), injectionConfig()));
    expect(code).toBe("SidecarMismatch");
    expect(message).toContain(ANNOTATION_INJECTED);
    expect(message).toContain(difference);
  });

  it("refuses a pod that arrives marked injected with a privileged sidecar of its own", () => {
    const input: Json = {
      metadata: { annotations: { [ANNOTATION_INJECTED]: "0.1.0" } },
      spec: {
        containers: [
          { name: "app", image: "example/app:1" },
          { name: SIDECAR_CONTAINER_NAME, image: "evil.example/miner:1", securityContext: { privileged: true } },
        ],
      },
    };
    const { code, message } = refusal(() => mutatePod(input, injectionConfig()));
    expect(code).toBe("SidecarMismatch");
    expect(message).toContain("securityContext differs");
    expect(message).toContain("it is in containers");
  });

  it("quotes no more than a bounded part of a long image reference", () => {
    const { message } = refusal(() => mutatePod(injectedWith((s) => (s.image = `evil.example/${"a".repeat(10_000)}`)), injectionConfig()));
    expect(message.length).toBeLessThan(1_000);
  });

  it.each<[string, (sidecar: Container, pod: PodDocument) => void, ReturnType<typeof injectionConfig>]>([
    ["nothing changed (a reinvocation)", () => undefined, injectionConfig()],
    ["nothing changed, regular sidecar", () => undefined, injectionConfig({ nativeSidecars: false })],
    [
      "the defaults the apiserver fills in (a copy of a stored pod)",
      (s) => {
        // As stored: the startup probe with the scheme and success threshold the apiserver defaults.
        Object.assign(s, { startupProbe: { ...s.startupProbe, successThreshold: 1, httpGet: { path: "/readyz", port: 8777, scheme: "HTTP" } } });
        s["terminationMessagePath"] = "/dev/termination-log";
        s["terminationMessagePolicy"] = "File";
        s.imagePullPolicy = "IfNotPresent";
      },
      injectionConfig(),
    ],
    [
      "the service-account token mount the apiserver adds",
      (s) => s.volumeMounts?.push({ name: "kube-api-access-x7k2p", mountPath: "/var/run/secrets/kubernetes.io/serviceaccount", readOnly: true }),
      injectionConfig(),
    ],
    ["other resources", (s) => (s.resources = { requests: { cpu: "50m" } }), injectionConfig()],
  ])("keeps a pod marked injected whose sidecar matches, with %s", (_name, tamper, config) => {
    const result = mutatePod(injectedWith(tamper, config), config);
    expect(result.wasInjected).toBe(true);
    expect(result.patch).toEqual([]);
  });

  /** Replaces the injected pod's volume of that name. */
  const replaceVolume = (name: string, volume: Record<string, unknown>) => (_s: Container, p: PodDocument) => {
    p.spec.volumes = (p.spec.volumes ?? []).map((v) => (v.name === name ? { name, ...volume } : v));
  };

  it.each<[string, (sidecar: Container, pod: PodDocument) => void]>([
    ["the token volume on the node's disk", replaceVolume(VOLUME_TOKENS, { hostPath: { path: "/var/tmp" } })],
    ["a subject token for another audience", replaceVolume(VOLUME_SUBJECT_TOKEN, { projected: { sources: [{ serviceAccountToken: { audience: "other", expirationSeconds: 3600, path: "token" } }] } })],
    ["an issuer CA from another ConfigMap", replaceVolume(VOLUME_ISSUER_CA, { configMap: { name: "my-own-ca", items: [{ key: "ca.crt", path: "ca.crt" }] } })],
  ])("refuses a pod marked injected that carries %s, naming the volume", (_name, tamper) => {
    const { code, message } = refusal(() => mutatePod(injectedWith(tamper), injectionConfig()));
    expect(code).toBe("SidecarMismatch");
    expect(message).toMatch(/volume "tessera-[a-z-]+" is /);
  });

  it.each<[string, ReturnType<typeof injectionConfig>]>([
    ["a ConfigMap CA", injectionConfig()],
    ["an inline CA", injectionConfig({ issuerCa: { kind: "inline", pem: "PEM" } })],
  ])("keeps a pod marked injected whose volumes carry the defaults the apiserver fills in, with %s", (_name, config) => {
    const stored = injectedWith((_s, p) => {
      for (const volume of p.spec.volumes ?? []) {
        for (const kind of ["projected", "configMap", "downwardAPI"]) {
          const source = volume[kind] as Record<string, unknown> | undefined;
          if (source === undefined) continue;
          source["defaultMode"] = 420;
          for (const item of (source["items"] ?? []) as { fieldRef?: Record<string, unknown> }[]) if (item.fieldRef !== undefined) item.fieldRef["apiVersion"] = "v1";
        }
      }
    }, config);
    expect(mutatePod(stored, config).patch).toEqual([]);
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
