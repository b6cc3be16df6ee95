// Plain JSON shapes of the Pod parts the injector builds (client-node's model classes expect constructed instances).

export interface EnvVar {
  name: string;
  value?: string;
  [key: string]: unknown;
}

export interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
  [key: string]: unknown;
}

export interface SecurityContext {
  runAsNonRoot: boolean;
  runAsUser: number;
  runAsGroup: number;
  readOnlyRootFilesystem: boolean;
  allowPrivilegeEscalation: boolean;
  privileged: boolean;
  capabilities: { drop: string[] };
  seccompProfile: { type: "RuntimeDefault" };
}

export interface Probe {
  httpGet: { path: string; port: number };
  periodSeconds: number;
  failureThreshold: number;
  timeoutSeconds: number;
}

export interface Container {
  name: string;
  image?: string;
  imagePullPolicy?: string;
  env?: EnvVar[];
  volumeMounts?: VolumeMount[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: SecurityContext;
  restartPolicy?: string;
  startupProbe?: Probe;
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  [key: string]: unknown;
}

export interface Volume {
  name: string;
  [key: string]: unknown;
}
