// What the injector puts into a pod: the sidecar image, the issuer it talks to and the limits it runs under.

/** Where the sidecar finds the PEM bundle that signs the issuer's serving certificate. */
export type IssuerCaSource =
  /** A ConfigMap of that name, present in every opted-in namespace, holding the bundle under `key`. */
  | { readonly kind: "configMap"; readonly name: string; readonly key: string }
  /** The PEM itself: written into a pod annotation and projected into a file with a downwardAPI volume. */
  | { readonly kind: "inline"; readonly pem: string };

/** Compute resources as Kubernetes quantities, e.g. { cpu: "10m", memory: "32Mi" }. */
export type ResourceList = Readonly<Record<string, string>>;

export interface InjectionConfig {
  /** Sidecar image reference, ideally pinned by digest. */
  readonly sidecarImage: string;
  readonly imagePullPolicy?: "Always" | "IfNotPresent" | "Never";
  /** Issuer base URL (https://...). */
  readonly issuerUrl: string;
  readonly issuerCa: IssuerCaSource;
  /** Audience of the projected service-account token the sidecar presents to the issuer. */
  readonly tesseraAudience: string;
  /** Lifetime the kubelet requests for that token (the apiserver's minimum is 600). */
  readonly subjectTokenExpirationSeconds: number;
  readonly resources: { readonly requests: ResourceList; readonly limits: ResourceList };
  /** The apiserver supports native sidecars (Kubernetes 1.29 and later: SidecarContainers). */
  readonly nativeSidecars: boolean;
  /** Loopback port of the sidecar's local endpoint. */
  readonly sidecarPort: number;
  /**
   * Port of the sidecar's health listener on the pod IP (ENV_SIDECAR_HEALTH_PORT), which the kubelet's startup
   * probe reaches; the token endpoint itself is loopback-only. Without it the probe targets sidecarPort.
   */
  readonly healthPort?: number;
  /**
   * Port of the sidecar's metrics listener on the pod IP (ENV_SIDECAR_METRICS_PORT), for Prometheus. Unset by
   * default: the sidecar's metrics then stay on its loopback endpoint.
   */
  readonly metricsPort?: number;
  /** sizeLimit of the in-memory token volume, e.g. "4Mi". */
  readonly tokenVolumeSizeLimit: string;
  /** UID and GID the sidecar runs as (the image must not need root). */
  readonly runAsUser: number;
  /** Value of the injected annotation: the injector's version. */
  readonly injectorVersion: string;
  /**
   * Most audiences one pod may ask for (ENV_MAX_AUDIENCES_PER_POD): each is a held token and a background refresh.
   * At most MAX_AUDIENCES_PER_POD, which is also the default and what the sidecar itself accepts.
   */
  readonly maxAudiencesPerPod?: number;
  /** Sidecar log level (pino level name). */
  readonly sidecarLogLevel?: string;
}

/** Directory of the shared in-memory token volume, in the sidecar and every application container. */
export const TOKEN_DIR = "/var/run/tessera/tokens";
/** Directory of the projected service-account token in the sidecar. */
export const SUBJECT_TOKEN_DIR = "/var/run/secrets/tessera.dev/serviceaccount";
/** File name of the projected service-account token inside SUBJECT_TOKEN_DIR. */
export const SUBJECT_TOKEN_FILE = "token";
/** Directory of the issuer CA bundle in the sidecar. */
export const ISSUER_CA_DIR = "/var/run/secrets/tessera.dev/issuer-ca";
/** File name of the issuer CA bundle inside ISSUER_CA_DIR. */
export const ISSUER_CA_FILE = "ca.crt";
