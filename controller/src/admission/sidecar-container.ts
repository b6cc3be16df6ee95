// Builds the sidecar container and the three volumes it needs, from the injection config and the pod's request.
import type { Container, SecurityContext, Volume } from "./pod-types.ts";
import {
  ANNOTATION_ISSUER_CA,
  ENV_ISSUER_CA_FILE,
  ENV_ISSUER_URL,
  ENV_LOG_LEVEL,
  ENV_SIDECAR_HEALTH_PORT,
  ENV_SIDECAR_METRICS_PORT,
  SIDECAR_METRICS_PORT_NAME,
  ENV_SIDECAR_PORT,
  ENV_SUBJECT_TOKEN_FILE,
  ENV_TOKEN_DIR,
  ENV_TOKENS,
  PATH_READYZ,
  SIDECAR_CONTAINER_NAME,
  VOLUME_ISSUER_CA,
  VOLUME_SUBJECT_TOKEN,
  VOLUME_TOKENS,
} from "../../../api/constants.ts";
import type { SidecarTokenSpec } from "../../../api/exchange.ts";
import {
  ISSUER_CA_DIR,
  ISSUER_CA_FILE,
  SUBJECT_TOKEN_DIR,
  SUBJECT_TOKEN_FILE,
  TOKEN_DIR,
  type InjectionConfig,
} from "./injection-config.ts";

/** Hardened: non-root, read-only root filesystem, no privilege escalation, no capabilities, default seccomp. */
export function hardenedSecurityContext(config: InjectionConfig): SecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: config.runAsUser,
    runAsGroup: config.runAsUser,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    privileged: false,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}

export function sidecarContainer(config: InjectionConfig, tokens: readonly SidecarTokenSpec[]): Container {
  const env = [
    { name: ENV_ISSUER_URL, value: config.issuerUrl },
    { name: ENV_ISSUER_CA_FILE, value: `${ISSUER_CA_DIR}/${ISSUER_CA_FILE}` },
    { name: ENV_SUBJECT_TOKEN_FILE, value: `${SUBJECT_TOKEN_DIR}/${SUBJECT_TOKEN_FILE}` },
    { name: ENV_TOKENS, value: JSON.stringify(tokens) },
    { name: ENV_TOKEN_DIR, value: TOKEN_DIR },
    { name: ENV_SIDECAR_PORT, value: String(config.sidecarPort) },
    // The kubelet probes from the node, which cannot reach the loopback endpoint: health gets its own port.
    ...(config.healthPort === undefined ? [] : [{ name: ENV_SIDECAR_HEALTH_PORT, value: String(config.healthPort) }]),
    ...(config.metricsPort === undefined ? [] : [{ name: ENV_SIDECAR_METRICS_PORT, value: String(config.metricsPort) }]),
    ...(config.sidecarLogLevel === undefined ? [] : [{ name: ENV_LOG_LEVEL, value: config.sidecarLogLevel }]),
  ];
  const container: Container = {
    name: SIDECAR_CONTAINER_NAME,
    image: config.sidecarImage,
    env,
    volumeMounts: [
      { name: VOLUME_TOKENS, mountPath: TOKEN_DIR },
      { name: VOLUME_SUBJECT_TOKEN, mountPath: SUBJECT_TOKEN_DIR, readOnly: true },
      { name: VOLUME_ISSUER_CA, mountPath: ISSUER_CA_DIR, readOnly: true },
    ],
    resources: { requests: { ...config.resources.requests }, limits: { ...config.resources.limits } },
    securityContext: hardenedSecurityContext(config),
  };
  // Named, so a PodMonitor can select the sidecars' metrics without knowing the number.
  if (config.metricsPort !== undefined) container.ports = [{ name: SIDECAR_METRICS_PORT_NAME, containerPort: config.metricsPort, protocol: "TCP" }];
  if (config.imagePullPolicy !== undefined) container.imagePullPolicy = config.imagePullPolicy;
  if (config.nativeSidecars) {
    // A native sidecar starts before the remaining init containers and the app, and the kubelet waits for
    // its startup probe: the app's first token request finds the sidecar ready.
    container.restartPolicy = "Always";
    container.startupProbe = {
      httpGet: { path: PATH_READYZ, port: config.healthPort ?? config.sidecarPort },
      periodSeconds: 1,
      failureThreshold: 60,
      timeoutSeconds: 1,
    };
  }
  return container;
}

export function subjectTokenVolume(config: InjectionConfig): Volume {
  return {
    name: VOLUME_SUBJECT_TOKEN,
    projected: {
      sources: [
        {
          serviceAccountToken: {
            audience: config.tesseraAudience,
            expirationSeconds: config.subjectTokenExpirationSeconds,
            path: SUBJECT_TOKEN_FILE,
          },
        },
      ],
    },
  };
}

export function tokensVolume(config: InjectionConfig): Volume {
  return { name: VOLUME_TOKENS, emptyDir: { medium: "Memory", sizeLimit: config.tokenVolumeSizeLimit } };
}

export function issuerCaVolume(config: InjectionConfig): Volume {
  const source = config.issuerCa;
  if (source.kind === "configMap") {
    return {
      name: VOLUME_ISSUER_CA,
      configMap: { name: source.name, items: [{ key: source.key, path: ISSUER_CA_FILE }] },
    };
  }
  return {
    name: VOLUME_ISSUER_CA,
    downwardAPI: {
      items: [{ path: ISSUER_CA_FILE, fieldRef: { fieldPath: `metadata.annotations['${ANNOTATION_ISSUER_CA}']` } }],
    },
  };
}
