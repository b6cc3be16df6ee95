// PolicyLookup reading TokenPolicy / ClusterTokenPolicy from the apiserver (tests, tools); production reads the informer cache.

import type { CustomObjectsApi } from "@kubernetes/client-node";
import { API_GROUP, API_VERSION, RESOURCE_CLUSTER_TOKEN_POLICIES, RESOURCE_TOKEN_POLICIES } from "../../../../api/constants.ts";
import type { AnyTokenPolicy } from "../../../../api/token-policy.ts";
import type { PolicyLookup } from "./introspection.ts";

function isNotFound(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === 404;
}

/** Reads the policy with GET on every call; a 404 is "gone", any other failure propagates (introspection answers 503). */
export function apiPolicyLookup(custom: CustomObjectsApi): PolicyLookup {
  return {
    async get(ref) {
      try {
        const object: unknown =
          ref.kind === "TokenPolicy"
            ? await custom.getNamespacedCustomObject({
                group: API_GROUP,
                version: API_VERSION,
                plural: RESOURCE_TOKEN_POLICIES,
                namespace: ref.namespace ?? "",
                name: ref.name,
              })
            : await custom.getClusterCustomObject({ group: API_GROUP, version: API_VERSION, plural: RESOURCE_CLUSTER_TOKEN_POLICIES, name: ref.name });
        return object as AnyTokenPolicy;
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
  };
}
