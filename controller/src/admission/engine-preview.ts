// PolicyPreview backed by the policy engine's choosePolicy(): turns denials a pod would meet into admission warnings.
import { buildSubject } from "../policy/subject.ts";
import type { DenialReason, PolicyEvaluation, Subject, TokenRequest } from "../policy/types.ts";
import type { PodPreviewInput, PolicyPreview } from "./policy-preview.ts";

/** How decide's first stage ends: a policy is chosen, or the request is denied while choosing one. */
export type PolicyChoice =
  | { readonly chosen: true; readonly evaluations: readonly PolicyEvaluation[] }
  | { readonly chosen: false; readonly reason: DenialReason; readonly message: string; readonly evaluations: readonly PolicyEvaluation[] };

/**
 * The part of the engine the preview needs. Every denial a person can fix by writing or changing a policy is
 * met while choosing the policy; what follows (conditions, claims: CEL) depends on the running pod, so it is
 * neither needed nor run on the admission path.
 */
export interface PolicyChooser {
  choose(subject: Subject, request: TokenRequest): PolicyChoice;
}

export interface EnginePreviewOptions {
  readonly chooser: PolicyChooser;
  /** Labels of a namespace, from the controller's informer cache; undefined when the namespace is unknown. */
  readonly namespaceLabels: (namespace: string) => Readonly<Record<string, string>> | undefined;
  readonly cluster: { readonly name: string; readonly environment: string };
}

function subjectOf(pod: PodPreviewInput, namespaceLabels: Readonly<Record<string, string>>, cluster: Subject["cluster"]): Subject {
  return buildSubject({
    serviceAccount: { namespace: pod.namespace, name: pod.serviceAccountName },
    namespace: { name: pod.namespace, labels: namespaceLabels },
    pod: {
      name: pod.name,
      // Not assigned before the pod is stored; conditions that read it cannot be previewed.
      uid: "",
      labels: pod.labels,
      annotations: pod.annotations,
      ...(pod.owner === undefined ? {} : { owner: pod.owner }),
    },
    cluster,
  });
}

/** Only denials a person can fix by writing or changing a policy become warnings; the rest depend on runtime. */
function warningFor(decision: PolicyChoice, audience: string | undefined, pod: PodPreviewInput): string | undefined {
  if (decision.chosen) return undefined;
  const who = `service account ${pod.namespace}/${pod.serviceAccountName}`;
  if (decision.reason === "NoMatchingPolicy") {
    return audience === undefined
      ? `Tessera: no TokenPolicy or ClusterTokenPolicy selects ${who}; the sidecar will be refused every token`
      : `Tessera: no policy grants audience "${audience}" to ${who}; that token will be refused`;
  }
  if (decision.reason === "AudienceNotAllowed" || decision.reason === "PolicyConflict" || decision.reason === "ScopeNotAllowed") {
    return `Tessera: ${audience === undefined ? "" : `audience "${audience}": `}${decision.message}`;
  }
  return undefined;
}

/** Placeholder audience for a pod that names none: only whether any policy selects the pod is read. */
const SELECTION_PROBE_AUDIENCE = "tessera.dev/admission-preview";

export function enginePolicyPreview(options: EnginePreviewOptions): PolicyPreview {
  return {
    preview(pod, audiences) {
      const labels = options.namespaceLabels(pod.namespace) ?? {};
      const subject = subjectOf(pod, labels, options.cluster);
      const scopes: string[] = [];
      const warnings: string[] = [];
      if (audiences.length === 0) {
        // No audience named: all that can be checked is whether any policy selects the pod at all.
        const decision = options.chooser.choose(subject, { audiences: [SELECTION_PROBE_AUDIENCE], scopes });
        const selected = decision.evaluations.some((e) => e.selected);
        if (!selected) {
          const warning = warningFor({ chosen: false, reason: "NoMatchingPolicy", message: "", evaluations: decision.evaluations }, undefined, pod);
          if (warning !== undefined) warnings.push(warning);
        }
        return { warnings };
      }
      for (const audience of audiences) {
        const warning = warningFor(options.chooser.choose(subject, { audiences: [audience], scopes }), audience, pod);
        if (warning !== undefined) warnings.push(warning);
      }
      return { warnings };
    },
  };
}
