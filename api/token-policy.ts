// TokenPolicy and ClusterTokenPolicy resource types: the TypeScript face of crds/, kept in agreement by a test.

/** Standard Kubernetes label selector. */
export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly LabelSelectorRequirement[];
}

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
  readonly values?: readonly string[];
}

/** Who owns a policy: the team answerable for what it grants. */
export interface PolicyOwner {
  /** Team name, a DNS label, e.g. "payments". */
  readonly team: string;
  /** A way to reach the team: an email address, a chat channel or a URL. */
  readonly contact?: string;
}

/** Which subjects a policy grants tokens to. Every field that is set must match (AND); at least one is required. */
export interface PolicySubjects {
  /** Service account names (in the policy's namespace for TokenPolicy; in any selected namespace for the cluster kind). */
  readonly serviceAccounts?: readonly string[];
  /** Pods whose labels match. */
  readonly podSelector?: LabelSelector;
}

/** Which subjects a ClusterTokenPolicy grants to: the namespaced fields plus the namespaces they may live in. */
export interface ClusterPolicySubjects extends PolicySubjects {
  /** Namespaces whose labels match; required, `{}` selects every namespace. */
  readonly namespaceSelector: LabelSelector;
}

/** Scopes a policy may grant. */
export interface PolicyScopes {
  /** Every scope the policy may grant. */
  readonly allowed: readonly string[];
  /** Scopes granted when the request names none; each must be in `allowed`. */
  readonly default?: readonly string[];
}

/** A claim whose value is computed by a CEL expression over the subject and request. */
export interface PolicyClaim {
  /**
   * The claim name, e.g. "tenant". Issuer-owned claims (ISSUER_OWNED_CLAIMS) and names under "tessera.dev/" are refused;
   * a TokenPolicy may not set CLUSTER_RESERVED_CLAIMS either.
   */
  readonly name: string;
  /** CEL expression; its result (string, number, bool, list or map) becomes the claim value. */
  readonly expression: string;
}

/**
 * Whether a rule takes effect. Enforce (the default): it does. Audit: it is evaluated for every request it would
 * apply to and what it would have decided is recorded (decision record, metric, the resource's status), but the
 * decision is made as if the rule were absent; an audited rule never widens what is granted.
 */
export type Enforcement = "Enforce" | "Audit";

/** A named CEL condition that must hold for the policy to grant anything. */
export interface PolicyCondition {
  /** Short name shown in decisions and explain output, e.g. "production-only". */
  readonly name: string;
  /** CEL expression returning bool. */
  readonly expression: string;
  /** Message shown to the caller when the condition is false. */
  readonly message: string;
  /** Audit: the condition is evaluated and a false result recorded, but it denies nothing. Default Enforce. */
  readonly enforcement?: Enforcement;
}

/** A Kubernetes service account by namespace and name. */
export interface ServiceAccountRef {
  readonly namespace: string;
  readonly name: string;
}

/** One kind of actor that may act for the subject (RFC 8693 `act`); exactly one field is set. */
export interface PolicyActor {
  /** Actor is a Kubernetes service account (it proves itself with its own projected token beside the grant). */
  readonly serviceAccount?: ServiceAccountRef;
  /** Actor is a Tessera access token holder whose `sub` equals this value. */
  readonly subject?: string;
  /** Actor is any service account in the namespaces this selects (by their labels), optionally only those names. */
  readonly serviceAccounts?: ActorServiceAccounts;
}

/** A set of service accounts that may act, by namespace labels and optionally by name. */
export interface ActorServiceAccounts {
  readonly namespaceSelector: LabelSelector;
  /** Only these service account names in the selected namespaces; absent means any. */
  readonly names?: readonly string[];
}

/** Who may act for the subject and how long the chain may grow. */
export interface PolicyDelegation {
  /** Actors allowed to act for the subject; a request with any other actor is denied. */
  readonly actors: readonly PolicyActor[];
  /** Scopes an actor may be given (each among scopes.allowed); absent means every scope the policy allows. */
  readonly scopes?: readonly string[];
  /** Longest `act` chain allowed, counting the new actor (1 = direct delegation only), 1..8. */
  readonly maxChainLength: number;
}

/** Spec shared by both policy kinds. */
export interface PolicySpecCommon {
  /** Who answers for this policy; required. */
  readonly owner: PolicyOwner;
  /** Free text for people. */
  readonly description?: string;
  /** Audiences this policy may grant. Requests for any other audience are not served by it. */
  readonly audiences: readonly string[];
  /** Scopes this policy may grant; none when absent. */
  readonly scopes?: PolicyScopes;
  /** Lifetime of minted tokens in seconds, 60..86400 (default 600), clamped by guardrails. */
  readonly ttlSeconds?: number;
  /** Claims computed by CEL. */
  readonly claims?: readonly PolicyClaim[];
  /** Conditions that must all hold. */
  readonly conditions?: readonly PolicyCondition[];
  /** Delegation: who may act for the subject. Absent means no actor_token is accepted. */
  readonly delegation?: PolicyDelegation;
  /** Tokens this policy issued before this RFC 3339 time are revoked (introspection reports them inactive). */
  readonly revokeBefore?: string;
  /** 0..1000 (default 0). Higher wins among policies of the same kind that match the same request; ties are conflicts. */
  readonly priority?: number;
  /**
   * true: tokens granted under this policy are always DPoP-bound (RFC 9449) to the key of the requesting sidecar; an
   * exchange without a DPoP proof is refused with invalid_dpop_proof, so no bearer token is ever issued for its
   * audiences. false or absent: a request with a proof gets a bound token, one without gets a bearer token.
   */
  readonly requireDPoP?: boolean;
  /**
   * Audit: the policy grants nothing; decisions record what it would have granted (or refused, where it would
   * have been chosen and denied). For a ClusterTokenPolicy this covers its grants and its guardrails, which then
   * narrow nothing and record what they would have refused or clamped. Default Enforce.
   */
  readonly enforcement?: Enforcement;
}

export interface TokenPolicySpec extends PolicySpecCommon {
  readonly subjects: PolicySubjects;
}

/** Limits that every TokenPolicy in the selected namespaces must stay within. */
export interface PolicyGuardrails {
  /** Namespaces these guardrails apply to; absent means every namespace. */
  readonly namespaceSelector?: LabelSelector;
  /** Longest TTL a TokenPolicy may grant; longer ones are clamped. */
  readonly maxTtlSeconds?: number;
  /** Audiences TokenPolicies may grant; absent means any not reserved. */
  readonly allowedAudiences?: readonly string[];
  /** Audiences only ClusterTokenPolicies may grant (e.g. the kube-apiserver's). */
  readonly reservedAudiences?: readonly string[];
  /** Scopes TokenPolicies may grant; absent means any. */
  readonly allowedScopes?: readonly string[];
  /** Claim names TokenPolicies may set; absent means any not reserved. */
  readonly allowedClaims?: readonly string[];
  /** Claim names only ClusterTokenPolicies may set, beyond groups, roles and entitlements. */
  readonly reservedClaims?: readonly string[];
  /** Longest delegation chain a TokenPolicy may allow, 0..8 (0 forbids delegation in TokenPolicies). */
  readonly maxDelegationChainLength?: number;
}

export interface ClusterTokenPolicySpec extends Partial<PolicySpecCommon> {
  readonly owner: PolicyOwner;
  /** Grants: absent means this ClusterTokenPolicy only sets guardrails. */
  readonly subjects?: ClusterPolicySubjects;
  /**
   * The audiences this policy grants are exclusive to it in the namespaces it selects: TokenPolicies there are not
   * consulted for them unless this is true.
   */
  readonly allowTokenPolicies?: boolean;
  /** Guardrails over namespaced TokenPolicies. */
  readonly guardrails?: PolicyGuardrails;
  /** Who owns which audiences. */
  readonly audienceOwnership?: readonly AudienceOwnershipRule[];
}

/** Who an audience belongs to, as an operator assigns it. */
export type AudienceOwnerKind =
  /** Namespaces the selector picks; the one that publishes a TokenAudience for the audience is its owner. */
  | "Namespaces"
  /** The operator: only ClusterTokenPolicies grant it and no contract is consulted (e.g. the kube-apiserver). */
  | "Cluster"
  /** Nobody: any policy may grant it within the guardrails (external APIs, cloud STS audiences). */
  | "Open";

/**
 * One ownership rule: which audiences, and who owns them. Exactly one of audiences, prefixes, hosts and
 * allAudiences is set. The most specific rule for an audience decides: exact > prefix (longest first) > host >
 * wildcard host > (an in-cluster Service URL's own namespace) > allAudiences.
 */
export interface AudienceOwnershipRule {
  /** Exact audiences, in canonical form. */
  readonly audiences?: readonly string[];
  /** Canonical prefixes ending in "/": the audience equal to the prefix without its "/" and every one under it. */
  readonly prefixes?: readonly string[];
  /** URL audiences (http, https) whose host is one of these; "*.example.com" is any subdomain, not the apex. */
  readonly hosts?: readonly string[];
  /** Every audience no more specific rule covers; meant for migration, and visible as such. */
  readonly allAudiences?: boolean;
  readonly ownedBy: AudienceOwnerKind;
  /** Required when ownedBy is Namespaces. */
  readonly namespaceSelector?: LabelSelector;
}

/** A status condition (metav1.Condition). */
export interface Condition {
  readonly type: string;
  readonly status: "True" | "False" | "Unknown";
  readonly reason: string;
  readonly message: string;
  readonly observedGeneration?: number;
  readonly lastTransitionTime: string;
}

/** What an audited rule would have done to one request, as the status keeps it: who asked for what, never a token. */
export interface AuditExample {
  /** When the request was decided (RFC 3339). */
  readonly time: string;
  /** The audited rule: "spec" for the whole resource, or the condition, e.g. "spec.conditions[tenant-labelled]". */
  readonly rule: string;
  readonly wouldHave: "denied" | "clamped" | "granted";
  /** The denial reason it would have given, or Clamped, Granted. */
  readonly reason: string;
  /** The requesting service account and pod, "namespace/serviceaccount (pod name)". */
  readonly subject: string;
  readonly audiences: readonly string[];
  readonly scopes: readonly string[];
  readonly message: string;
}

/** What the resource's audited rules would have changed, counted from the issuer's decisions for one generation. */
export interface AuditStatus {
  /** The generation these counts are for; an edit of the resource starts them again. */
  readonly observedGeneration: number;
  /** Requests that were allowed and would have been denied. */
  readonly wouldHaveDenied: number;
  /** Requests that were allowed and would have been granted less (fewer scopes, a shorter TTL, a required binding). */
  readonly wouldHaveClamped: number;
  /** Requests that were denied, or granted under another policy, and that an audited policy would have granted. */
  readonly wouldHaveGranted: number;
  /** The last time a request would have changed (RFC 3339). */
  readonly lastChangeTime?: string;
  /** The most recent requests it would have changed, newest first (at most AUDIT_STATUS_EXAMPLES). */
  readonly examples?: readonly AuditExample[];
}

export interface PolicyStatus {
  readonly observedGeneration?: number;
  readonly conditions?: readonly Condition[];
  /** Present while anything in the policy is audited. */
  readonly audit?: AuditStatus;
  /** Pods this policy currently selects. */
  readonly podsMatched?: number;
  /** Pods that opted in and match but run without the sidecar (injection was bypassed). */
  readonly podsUninjected?: number;
  /** Time of the last token issued under this policy (RFC 3339). */
  readonly lastIssuanceTime?: string;
}

export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly generation?: number;
  readonly resourceVersion?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly creationTimestamp?: string;
  readonly deletionTimestamp?: string;
}

export interface TokenPolicy {
  readonly apiVersion: "tessera.dev/v1alpha1";
  readonly kind: "TokenPolicy";
  readonly metadata: ObjectMeta;
  readonly spec: TokenPolicySpec;
  readonly status?: PolicyStatus;
}

export interface ClusterTokenPolicy {
  readonly apiVersion: "tessera.dev/v1alpha1";
  readonly kind: "ClusterTokenPolicy";
  readonly metadata: ObjectMeta;
  readonly spec: ClusterTokenPolicySpec;
  readonly status?: PolicyStatus;
}

export type AnyTokenPolicy = TokenPolicy | ClusterTokenPolicy;

/** Stable reference to the policy a decision was made under. */
export interface PolicyRef {
  readonly kind: "TokenPolicy" | "ClusterTokenPolicy";
  readonly namespace?: string;
  readonly name: string;
  readonly generation: number;
}
