// Renders the MutatingWebhookConfiguration and ValidatingWebhookConfiguration Tessera owns.
import {
  API_GROUP,
  API_VERSION,
  INJECT_DISABLED,
  INJECT_ENABLED,
  LABEL_INJECT,
  LABEL_MANAGED_BY,
  LABEL_NAMESPACE_INJECT,
  LABEL_NAMESPACE_NAME,
  MANAGED_BY_TESSERA,
  PATH_MUTATE_PODS,
  PATH_VALIDATE_POLICIES,
  RESOURCE_CLUSTER_TOKEN_POLICIES,
  RESOURCE_TOKEN_AUDIENCES,
  RESOURCE_TOKEN_POLICIES,
  WEBHOOK_CONFIGURATION_NAME,
  WEBHOOK_INJECT_LABELLED_PODS,
  WEBHOOK_INJECT_NAMESPACE_PODS,
  WEBHOOK_VALIDATE_POLICIES,
} from "../../../api/constants.ts";

/** Where the apiserver sends reviews: the Service in a cluster, or a URL (tests, out-of-cluster runs). */
export type WebhookTarget =
  | { readonly kind: "service"; readonly namespace: string; readonly name: string; readonly port: number }
  | { readonly kind: "url"; readonly baseUrl: string };

export interface WebhookConfigOptions {
  readonly target: WebhookTarget;
  /** Tessera's own namespace: never intercepted, so the controller can always start. */
  readonly tesseraNamespace: string;
  /** PEM CA bundle the apiserver verifies the webhook with; empty until the first certificate exists. */
  readonly caBundlePem: string;
  /** Apiserver wait per call (seconds, 1-30); short, because pod creation waits on it. */
  readonly timeoutSeconds?: number;
}

interface ClientConfig {
  url?: string;
  service?: { namespace: string; name: string; port: number; path: string };
  caBundle?: string;
}

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: "In" | "NotIn" | "Exists" | "DoesNotExist"; values?: string[] }[];
}

interface Rule {
  apiGroups: string[];
  apiVersions: string[];
  operations: string[];
  resources: string[];
  scope: "Namespaced" | "Cluster" | "*";
}

export interface Webhook {
  name: string;
  clientConfig: ClientConfig;
  rules: Rule[];
  failurePolicy: "Fail" | "Ignore";
  matchPolicy: "Equivalent";
  sideEffects: "None";
  timeoutSeconds: number;
  admissionReviewVersions: string[];
  namespaceSelector?: LabelSelector;
  objectSelector?: LabelSelector;
  reinvocationPolicy?: "IfNeeded" | "Never";
}

export interface WebhookConfiguration {
  apiVersion: "admissionregistration.k8s.io/v1";
  kind: "MutatingWebhookConfiguration" | "ValidatingWebhookConfiguration";
  metadata: { name: string; labels: Record<string, string> };
  webhooks: Webhook[];
}

function clientConfig(target: WebhookTarget, path: string, caBundlePem: string): ClientConfig {
  const caBundle = caBundlePem === "" ? {} : { caBundle: Buffer.from(caBundlePem).toString("base64") };
  if (target.kind === "url") return { url: `${target.baseUrl.replace(/\/$/, "")}${path}`, ...caBundle };
  return { service: { namespace: target.namespace, name: target.name, port: target.port, path }, ...caBundle };
}

/**
 * Two pod webhooks, because objectSelector and namespaceSelector of one webhook are ANDed: one admits pods
 * labelled for injection, the other every pod of a labelled namespace (unless the pod opts out). A pod
 * matching both is reviewed twice; the second review finds it injected and changes nothing.
 * failurePolicy Fail is safe because only opted-in pods are selected, never Tessera's namespace or kube-system.
 */
export function renderWebhookConfigurations(options: WebhookConfigOptions): {
  mutating: WebhookConfiguration;
  validating: WebhookConfiguration;
} {
  const excluded = { key: LABEL_NAMESPACE_NAME, operator: "NotIn" as const, values: [options.tesseraNamespace, "kube-system"] };
  const common = {
    failurePolicy: "Fail" as const,
    matchPolicy: "Equivalent" as const,
    sideEffects: "None" as const,
    timeoutSeconds: options.timeoutSeconds ?? 5,
    admissionReviewVersions: ["v1"],
  };
  const podRules: Rule[] = [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"], scope: "Namespaced" }];
  const podClient = clientConfig(options.target, PATH_MUTATE_PODS, options.caBundlePem);
  const labels = { [LABEL_MANAGED_BY]: MANAGED_BY_TESSERA };
  return {
    mutating: {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "MutatingWebhookConfiguration",
      metadata: { name: WEBHOOK_CONFIGURATION_NAME, labels },
      webhooks: [
        {
          name: WEBHOOK_INJECT_LABELLED_PODS,
          clientConfig: podClient,
          rules: podRules,
          namespaceSelector: { matchExpressions: [excluded] },
          objectSelector: { matchLabels: { [LABEL_INJECT]: INJECT_ENABLED } },
          reinvocationPolicy: "IfNeeded",
          ...common,
        },
        {
          name: WEBHOOK_INJECT_NAMESPACE_PODS,
          clientConfig: podClient,
          rules: podRules,
          namespaceSelector: {
            matchLabels: { [LABEL_NAMESPACE_INJECT]: INJECT_ENABLED },
            matchExpressions: [excluded],
          },
          objectSelector: { matchExpressions: [{ key: LABEL_INJECT, operator: "NotIn", values: [INJECT_DISABLED] }] },
          reinvocationPolicy: "IfNeeded",
          ...common,
        },
      ],
    },
    validating: {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingWebhookConfiguration",
      metadata: { name: WEBHOOK_CONFIGURATION_NAME, labels },
      webhooks: [
        {
          name: WEBHOOK_VALIDATE_POLICIES,
          clientConfig: clientConfig(options.target, PATH_VALIDATE_POLICIES, options.caBundlePem),
          rules: [
            {
              apiGroups: [API_GROUP],
              apiVersions: [API_VERSION],
              operations: ["CREATE", "UPDATE"],
              resources: [RESOURCE_TOKEN_POLICIES, RESOURCE_CLUSTER_TOKEN_POLICIES, RESOURCE_TOKEN_AUDIENCES],
              scope: "*",
            },
          ],
          ...common,
        },
      ],
    },
  };
}
