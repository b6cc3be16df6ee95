// Admission's public API: pod injection, policy validation, the webhook server and its TLS.
export { AdmissionError, isAdmissionError, type AdmissionErrorCode } from "./errors.ts";
export { mutatePod, injectionRequestOf, type MutationResult } from "./mutate-pod.ts";
export { TOKEN_DIR, type InjectionConfig, type IssuerCaSource } from "./injection-config.ts";
export { supportsNativeSidecars } from "./cluster-version.ts";
export { diff, applyPatch, escapePointerToken, type Json, type PatchOperation } from "./json-patch.ts";
export { admitPod, type PodWebhookOptions } from "./pod-webhook.ts";
export type { PolicyPreview, PodPreviewInput } from "./policy-preview.ts";
export { enginePolicyPreview, type PolicyChoice, type PolicyChooser } from "./engine-preview.ts";
export { enginePolicyChooser, engineGuardrailChecker, enginePolicyCompiler } from "./engine-adapters.ts";
export { validatePolicy, type FieldProblem, type GuardrailChecker, type PolicyCompiler, type PolicySource } from "./validate-policy.ts";
export { findConflicts, selectorsCanOverlap } from "./policy-conflicts.ts";
export { parseAdmissionReview, admissionResponse, type AdmissionOutcome, type AdmissionRequest } from "./review.ts";
export { startAdmissionServer, type AdmissionServer, type AdmissionServerOptions, type TlsMaterial } from "./server.ts";
export { planWebhookTls, type CertPlan } from "./cert-plan.ts";
export {
  caBundleInstalled,
  patchCaBundles,
  readServingMaterial,
  reloadServingMaterial,
  syncWebhookTls,
  type KubeRequester,
  type WebhookTlsMode,
} from "./webhook-certs.ts";
export { renderWebhookConfigurations, type WebhookTarget } from "./webhook-config.ts";
