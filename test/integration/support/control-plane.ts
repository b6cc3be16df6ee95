// The shared control plane of this test run, as the global setup provided it, and admin clients for it.
import {
  ApiextensionsV1Api,
  AuthenticationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  RbacAuthorizationV1Api,
} from "@kubernetes/client-node";
import { inject } from "vitest";
import type { ControlPlaneInfo } from "../../controlplane/info.ts";

export function controlPlaneInfo(): ControlPlaneInfo {
  return inject("controlPlane");
}

/** A fresh KubeConfig for the admin user (system:masters) of the shared control plane. */
export function adminKubeConfig(info: ControlPlaneInfo = controlPlaneInfo()): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(info.kubeconfigPath);
  return kubeConfig;
}

export interface KubeClients {
  readonly kubeConfig: KubeConfig;
  readonly core: CoreV1Api;
  readonly rbac: RbacAuthorizationV1Api;
  readonly auth: AuthenticationV1Api;
  readonly apiextensions: ApiextensionsV1Api;
  readonly custom: CustomObjectsApi;
  readonly objects: KubernetesObjectApi;
}

export function kubeClients(kubeConfig: KubeConfig = adminKubeConfig()): KubeClients {
  return {
    kubeConfig,
    core: kubeConfig.makeApiClient(CoreV1Api),
    rbac: kubeConfig.makeApiClient(RbacAuthorizationV1Api),
    auth: kubeConfig.makeApiClient(AuthenticationV1Api),
    apiextensions: kubeConfig.makeApiClient(ApiextensionsV1Api),
    custom: kubeConfig.makeApiClient(CustomObjectsApi),
    objects: KubernetesObjectApi.makeApiClient(kubeConfig),
  };
}
