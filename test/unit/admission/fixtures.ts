// Shared test inputs for admission unit tests: an injection config and pod builders.
import type { InjectionConfig } from "../../../controller/src/admission/injection-config.ts";
import type { Json } from "../../../controller/src/admission/json-patch.ts";

export function injectionConfig(overrides: Partial<InjectionConfig> = {}): InjectionConfig {
  return {
    sidecarImage: "registry.example/tessera-sidecar:1.0.0",
    issuerUrl: "https://tessera.tessera-system.svc:8443",
    issuerCa: { kind: "configMap", name: "tessera-issuer-ca", key: "ca.crt" },
    tesseraAudience: "tessera.dev/issuer",
    subjectTokenExpirationSeconds: 3600,
    resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "64Mi" } },
    nativeSidecars: true,
    sidecarPort: 8777,
    tokenVolumeSizeLimit: "4Mi",
    runAsUser: 65532,
    injectorVersion: "0.1.0",
    ...overrides,
  };
}

export interface PodOptions {
  readonly annotations?: Record<string, string>;
  readonly containers?: readonly string[];
  readonly initContainers?: readonly string[];
  readonly volumes?: readonly string[];
  readonly hostNetwork?: boolean;
}

export function pod(options: PodOptions = {}): Json {
  const container = (name: string): Json => ({ name, image: `example/${name}:1` });
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "web-0",
      namespace: "shop",
      labels: { "tessera.dev/inject": "enabled", app: "web" },
      ...(options.annotations === undefined ? {} : { annotations: options.annotations }),
    },
    spec: {
      serviceAccountName: "web",
      containers: (options.containers ?? ["app"]).map(container),
      ...(options.initContainers === undefined ? {} : { initContainers: options.initContainers.map(container) }),
      ...(options.volumes === undefined ? {} : { volumes: options.volumes.map((name) => ({ name, emptyDir: {} })) }),
      ...(options.hostNetwork === undefined ? {} : { hostNetwork: options.hostNetwork }),
    },
  };
}
