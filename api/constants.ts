// Every name that crosses the wire between Tessera's programs, the cluster and workloads: one documented constant each.
//
// Sections are owned by area (policy, issuer, sidecar, admission, controller); add a name to its section,
// never inline a wire string elsewhere.

// ---------------------------------------------------------------------------------------------------------
// API group and resources
// ---------------------------------------------------------------------------------------------------------

/** The API group of Tessera's custom resources. */
export const API_GROUP = "tessera.dev";
/** The served and stored version of Tessera's custom resources. */
export const API_VERSION = "v1alpha1";
/** apiVersion field value of every Tessera resource. */
export const API_GROUP_VERSION = `${API_GROUP}/${API_VERSION}`;
/** Kind of the namespaced, team-owned policy. */
export const KIND_TOKEN_POLICY = "TokenPolicy";
/** Kind of the cluster-scoped, operator-owned policy and guardrails. */
export const KIND_CLUSTER_TOKEN_POLICY = "ClusterTokenPolicy";
/** Plural resource name of TokenPolicy (used in REST paths and RBAC). */
export const RESOURCE_TOKEN_POLICIES = "tokenpolicies";
/** Plural resource name of ClusterTokenPolicy (used in REST paths and RBAC). */
export const RESOURCE_CLUSTER_TOKEN_POLICIES = "clustertokenpolicies";
/** Kind of the namespaced contract an audience's owner publishes. */
export const KIND_TOKEN_AUDIENCE = "TokenAudience";
/** Plural resource name of TokenAudience (used in REST paths and RBAC). */
export const RESOURCE_TOKEN_AUDIENCES = "tokenaudiences";
/**
 * Kind of a policy test suite (`tessera test`), apiVersion API_GROUP_VERSION. A file format read by the CLI only:
 * no CRD defines it and it is never applied to a cluster.
 */
export const KIND_TOKEN_POLICY_TEST = "TokenPolicyTest";

// ---------------------------------------------------------------------------------------------------------
// Policy conditions and status
// ---------------------------------------------------------------------------------------------------------

/** Status condition: the policy compiled and stays within every guardrail that applies to it. */
export const CONDITION_ACCEPTED = "Accepted";
/** Status condition: the policy is accepted and the controller serves issuance under it. */
export const CONDITION_READY = "Ready";
/** Status condition of a TokenAudience: it decides for its audience (its namespace owns the audience). */
export const CONDITION_OWNER = "Owner";
/**
 * Status condition: no exchange under this generation of the policy ran out of the CEL cost budget. False (reason
 * CostLimitExceeded) once the issuer denied one for it; an edit of the policy (a new generation) clears it.
 */
export const CONDITION_WITHIN_COST_BUDGET = "WithinCostBudget";
/**
 * Status condition of a resource with anything in audit mode (spec.enforcement or a condition's enforcement is
 * Audit): True, with how many requests its audited rules would have changed. Absent when everything is enforced.
 */
export const CONDITION_AUDITED = "Audited";
/** spec.enforcement (and a condition's enforcement) value: the rule takes effect. The default. */
export const ENFORCEMENT_ENFORCE = "Enforce";
/** spec.enforcement (and a condition's enforcement) value: the rule is evaluated and reported, never applied. */
export const ENFORCEMENT_AUDIT = "Audit";

// ---------------------------------------------------------------------------------------------------------
// Token claims (RFC 7519, RFC 9068, RFC 8693) and Tessera's own claims
// ---------------------------------------------------------------------------------------------------------

/** JOSE header `typ` of every Tessera access token (RFC 9068 section 2.1). */
export const ACCESS_TOKEN_TYP = "at+jwt";
/**
 * Claims only the issuer sets; no policy may set them, in any letter case. They are the registered claims and the
 * authentication and authorization claims resource servers read to decide (RFC 7519, 9068, 8693, 7800, OpenID
 * Connect), including the spellings other issuers use for scopes (`scp`, `permissions`).
 */
export const ISSUER_OWNED_CLAIMS = [
  "iss",
  "sub",
  "aud",
  "exp",
  "nbf",
  "iat",
  "jti",
  "client_id",
  "scope",
  "scp",
  "permissions",
  "act",
  "may_act",
  "cnf",
  "auth_time",
  "acr",
  "amr",
  "azp",
  "nonce",
  "sid",
  "at_hash",
  "c_hash",
] as const;
/**
 * Authorization claims (RFC 9068 section 2.2.3, and the role claims common resource servers read) only
 * ClusterTokenPolicies may set, in any letter case, unless a guardrail reserves more.
 */
export const CLUSTER_RESERVED_CLAIMS = ["groups", "roles", "entitlements", "realm_access", "resource_access"] as const;
/** Names no claim may have: they would reach object prototypes in the many languages' JSON readers that build objects. */
export const FORBIDDEN_CLAIM_NAMES = ["__proto__", "constructor", "prototype"] as const;
/** Claim holding the policy a token was minted under: { kind, namespace?, name, generation }. */
export const CLAIM_POLICY = "tessera.dev/policy";
/** Claim holding the pod binding: { name, uid, namespace, node? }. */
export const CLAIM_POD = "tessera.dev/pod";
/** Claim holding the cluster name. */
export const CLAIM_CLUSTER = "tessera.dev/cluster";
/** Claim holding the environment (e.g. prod, staging) the cluster serves. */
export const CLAIM_ENVIRONMENT = "tessera.dev/environment";
/** Claim holding the subject's namespace. */
export const CLAIM_NAMESPACE = "tessera.dev/namespace";
/** Claim holding the subject's service account name. */
export const CLAIM_SERVICE_ACCOUNT = "tessera.dev/serviceaccount";
/**
 * Claim of a delegation grant naming who may use it (RFC 8693 section 4.4): { sub, tessera.dev/namespace,
 * tessera.dev/serviceaccount }. A Tessera token carrying it is a grant, accepted only as a subject_token together with
 * an actor credential that proves the named actor.
 */
export const CLAIM_MAY_ACT = "may_act";
/** Claim of a delegation grant holding the audiences the actor may get tokens for: { audiences: string[] }. */
export const CLAIM_DELEGATION = "tessera.dev/delegation";
/** Prefix every Tessera-owned claim starts with; policies may not set claims under it. */
export const TESSERA_CLAIM_PREFIX = "tessera.dev/";

// ---------------------------------------------------------------------------------------------------------
// Kubernetes projected service-account token claims
// ---------------------------------------------------------------------------------------------------------

/** Private claim of a bound service-account token holding namespace, pod, serviceaccount, node. */
export const K8S_TOKEN_CLAIM = "kubernetes.io";
/** Username prefix of a service account in `sub`. */
export const K8S_SERVICE_ACCOUNT_SUBJECT_PREFIX = "system:serviceaccount:";

// ---------------------------------------------------------------------------------------------------------
// OAuth 2.0 token exchange (RFC 8693) wire names
// ---------------------------------------------------------------------------------------------------------

/** grant_type of a token exchange. */
export const GRANT_TYPE_TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";
/** Token type of a JWT (RFC 8693 section 3): the projected service-account token and actor tokens. */
export const TOKEN_TYPE_JWT = "urn:ietf:params:oauth:token-type:jwt";
/** Token type of an access token (RFC 8693 section 3): what the issuer returns. */
export const TOKEN_TYPE_ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token";
/**
 * Tessera's token-exchange parameter asking for a delegation grant instead of an access token: the subject of the
 * actor allowed to use it (system:serviceaccount:NAMESPACE:NAME). audience and scope name what is delegated.
 */
export const PARAM_MAY_ACT = "may_act";
/** Longest lifetime of a delegation grant in seconds: the delegating workload asks again for a longer delegation. */
export const DELEGATION_GRANT_MAX_TTL_SECONDS = 300;
/** Media type of a form-encoded request body. */
export const MEDIA_TYPE_FORM = "application/x-www-form-urlencoded";
/** Media type of JSON responses. */
export const MEDIA_TYPE_JSON = "application/json";

// ---------------------------------------------------------------------------------------------------------
// Issuer HTTP paths
// ---------------------------------------------------------------------------------------------------------

/** Token exchange endpoint. */
export const PATH_TOKEN = "/v1/token";
/** RFC 7662 introspection endpoint. */
export const PATH_INTROSPECT = "/v1/introspect";
/** Revocation endpoint (RFC 7009 style): revoke a Tessera token, or a jti, for every replica. */
export const PATH_REVOKE = "/v1/revoke";
/** Explain endpoint: what a pod would get, and why, without minting. */
export const PATH_EXPLAIN = "/v1/explain";
/** Re-issuance channel: a sidecar's long-poll for entitlement changes of its pod. */
export const PATH_WATCH = "/v1/watch";
/** JWKS with every published verification key. */
export const PATH_JWKS = "/.well-known/jwks.json";
/** OpenID-style discovery document (issuer, jwks_uri, supported algorithms). */
export const PATH_DISCOVERY = "/.well-known/openid-configuration";
/** OAuth authorization server metadata (RFC 8414). */
export const PATH_OAUTH_METADATA = "/.well-known/oauth-authorization-server";
/** Liveness. */
export const PATH_HEALTHZ = "/healthz";
/** Readiness. */
export const PATH_READYZ = "/readyz";
/** Prometheus metrics. */
export const PATH_METRICS = "/metrics";

/** Default audience a pod's projected service-account token carries for Tessera's issuer. */
export const DEFAULT_TESSERA_AUDIENCE = "tessera.dev/issuer";

// ---------------------------------------------------------------------------------------------------------
// Re-issuance channel (PATH_WATCH): why a poll was answered with a change (EntitlementChange.reason)
// ---------------------------------------------------------------------------------------------------------

/** The sidecar's first poll (it sent no version): the version it holds from now on; nothing to refresh. */
export const CHANGE_REASON_INITIAL = "initial";
/** The sidecar's version was already stale when it polled; the issuer answers at once without telling why. */
export const CHANGE_REASON_CHANGED = "changed";
/** A TokenPolicy in the pod's namespace or any ClusterTokenPolicy was added, changed, revoked or deleted. */
export const CHANGE_REASON_POLICY_CHANGED = "policy-changed";
/** The pod's own metadata or its namespace's labels changed, and no policy did. */
export const CHANGE_REASON_LABELS_CHANGED = "labels-changed";
/** The issuer's cache no longer has the pod; sent with an empty version (the next poll learns whether it is gone). */
export const CHANGE_REASON_POD_DELETED = "pod-deleted";
/** Never sent: what a sidecar records when an answer carries no reason, or one it does not know. */
export const CHANGE_REASON_UNSPECIFIED = "unspecified";

// ---------------------------------------------------------------------------------------------------------
// Sidecar: local endpoint, files and configuration (the contract the admission webhook injects)
// ---------------------------------------------------------------------------------------------------------

/** Local endpoint path an application reads a token from. */
export const SIDECAR_PATH_TOKEN = "/v1/token";
/**
 * Header every request to the sidecar's token endpoint must carry with value "true": a browser, or a request
 * forged through SSRF, cannot set it by accident (as cloud metadata servers require).
 */
export const SIDECAR_GUARD_HEADER = "Tessera-Token-Request";
/** Default loopback port of the sidecar's local endpoint. */
export const SIDECAR_DEFAULT_PORT = 8777;

/** Sidecar env: issuer base URL (https://...). */
export const ENV_ISSUER_URL = "TESSERA_ISSUER_URL";
/** Sidecar env: path to the PEM CA bundle that signs the issuer's serving certificate. */
export const ENV_ISSUER_CA_FILE = "TESSERA_ISSUER_CA_FILE";
/** Sidecar env: path of the projected service-account token file. */
export const ENV_SUBJECT_TOKEN_FILE = "TESSERA_SUBJECT_TOKEN_FILE";
/** Sidecar env: the tokens to hold, JSON array of { name, audience, scopes? }. */
export const ENV_TOKENS = "TESSERA_TOKENS";
/**
 * Most tokens (audiences) one pod may hold: each is a held token and a background refresh in its sidecar. The
 * sidecar refuses an ENV_TOKENS list longer than this; admission refuses more audiences than
 * ENV_MAX_AUDIENCES_PER_POD, which may lower this limit but never raise it.
 */
export const MAX_AUDIENCES_PER_POD = 16;
/** Sidecar env: directory where token files are written (a shared in-memory volume). */
export const ENV_TOKEN_DIR = "TESSERA_TOKEN_DIR";
/** Sidecar env: loopback port of the local endpoint. */
export const ENV_SIDECAR_PORT = "TESSERA_SIDECAR_PORT";
/** Sidecar env: optional Unix socket path of the local endpoint. */
export const ENV_SIDECAR_SOCKET = "TESSERA_SIDECAR_SOCKET";
/**
 * Sidecar env: optional port of a second listener on every interface serving only /healthz and /readyz, each
 * as a status code and a fixed short body (never tokens, metrics or which token is missing), so the kubelet's
 * probes reach them from the node.
 */
export const ENV_SIDECAR_HEALTH_PORT = "TESSERA_SIDECAR_HEALTH_PORT";
/**
 * Sidecar env: optional port of a listener on every interface serving only /metrics, for Prometheus. Metrics
 * leave the pod only when this is set (the loopback endpoint serves them to the pod's own processes).
 */
export const ENV_SIDECAR_METRICS_PORT = "TESSERA_SIDECAR_METRICS_PORT";
/** Sidecar env: log level (pino level name). */
export const ENV_LOG_LEVEL = "TESSERA_LOG_LEVEL";

/** Application env: base URL of the sidecar's local endpoint (http://127.0.0.1:PORT). */
export const ENV_APP_ENDPOINT = "TESSERA_ENDPOINT";
/** Application env: directory holding token files. */
export const ENV_APP_TOKEN_DIR = "TESSERA_TOKEN_DIR";

// ---------------------------------------------------------------------------------------------------------
// Admission: pod labels and annotations
// ---------------------------------------------------------------------------------------------------------

/** Pod label (value "enabled") that opts a pod into injection; selected by the webhook's objectSelector. */
export const LABEL_INJECT = "tessera.dev/inject";
/** Namespace label (value "enabled") that opts every pod of a namespace into injection. */
export const LABEL_NAMESPACE_INJECT = "tessera.dev/inject";
/** Value of the opt-in labels. */
export const INJECT_ENABLED = "enabled";
/** Pod annotation: comma-separated audiences to hold tokens for. */
export const ANNOTATION_AUDIENCES = "tessera.dev/audiences";
/** Pod annotation: space-separated scopes to request. */
export const ANNOTATION_SCOPES = "tessera.dev/scopes";
/** Pod annotation: comma-separated container names that do not get the token volume and env. */
export const ANNOTATION_SKIP_CONTAINERS = "tessera.dev/skip-containers";
/** Pod annotation set by the webhook on injection: the injector version, makes injection idempotent. */
export const ANNOTATION_INJECTED = "tessera.dev/injected";
/** Name of the injected sidecar container. */
export const SIDECAR_CONTAINER_NAME = "tessera-sidecar";
/** Name of the injected projected service-account token volume. */
export const VOLUME_SUBJECT_TOKEN = "tessera-subject-token";
/** Name of the injected shared in-memory token volume. */
export const VOLUME_TOKENS = "tessera-tokens";
/** Name of the injected volume holding the issuer's CA bundle. */
export const VOLUME_ISSUER_CA = "tessera-issuer-ca";
/** Value of LABEL_INJECT that opts a pod out although its namespace opted in. */
export const INJECT_DISABLED = "disabled";
/** Pod annotation set by the webhook when the issuer CA is inline: a downwardAPI volume projects it into a file. */
export const ANNOTATION_ISSUER_CA = "tessera.dev/issuer-ca";
/** Annotation `npm run demo` puts on the webhook configurations it registers, so it never replaces an installation's. */
export const ANNOTATION_DEMO_RUN = "tessera.dev/demo-run";
/** Namespace label the apiserver sets to the namespace's own name (used to exclude namespaces from webhooks). */
export const LABEL_NAMESPACE_NAME = "kubernetes.io/metadata.name";
/** Webhook server path of the pod mutating webhook. */
export const PATH_MUTATE_PODS = "/mutate-pods";
/** Webhook server path of the TokenPolicy / ClusterTokenPolicy validating webhook. */
export const PATH_VALIDATE_POLICIES = "/validate-policies";
/** Name of the MutatingWebhookConfiguration and ValidatingWebhookConfiguration the controller owns. */
export const WEBHOOK_CONFIGURATION_NAME = "tessera";
/** Mutating webhook entry for pods labelled LABEL_INJECT=enabled. */
export const WEBHOOK_INJECT_LABELLED_PODS = "labelled-pods.inject.tessera.dev";
/** Mutating webhook entry for pods in namespaces labelled LABEL_NAMESPACE_INJECT=enabled. */
export const WEBHOOK_INJECT_NAMESPACE_PODS = "namespace-pods.inject.tessera.dev";
/** Validating webhook entry for TokenPolicy and ClusterTokenPolicy. */
export const WEBHOOK_VALIDATE_POLICIES = "policies.validate.tessera.dev";

// ---------------------------------------------------------------------------------------------------------
// Controller
// ---------------------------------------------------------------------------------------------------------

/** Name of the Lease the controller replicas elect a leader with. */
export const LEADER_LEASE_NAME = "tessera-controller";
/** Name of the ConfigMap holding revoked token ids (jti -> exp) that every issuer replica reloads. */
export const CONFIGMAP_REVOCATIONS = "tessera-revocations";
/** Name of the Secret that holds the issuer's signing keys. */
export const SECRET_SIGNING_KEYS = "tessera-signing-keys";
/** Name of the Secret that holds the webhook CA and serving certificate. */
export const SECRET_WEBHOOK_TLS = "tessera-webhook-tls";
/** Label on every object the controller creates. */
export const LABEL_MANAGED_BY = "app.kubernetes.io/managed-by";
/** Value of LABEL_MANAGED_BY. */
export const MANAGED_BY_TESSERA = "tessera";
/** Controller env (each also a --flag of the same name without the prefix, e.g. --namespace): Tessera's namespace. */
export const ENV_CONTROLLER_NAMESPACE = "TESSERA_NAMESPACE";
/** Controller env: this replica's identity in the leader Lease (the pod name, from the downward API). */
export const ENV_CONTROLLER_POD_NAME = "TESSERA_POD_NAME";
/** Controller env: cluster name, the CLAIM_CLUSTER value and `cluster.name` in CEL. */
export const ENV_CLUSTER_NAME = "TESSERA_CLUSTER_NAME";
/** Controller env: environment (e.g. prod), the CLAIM_ENVIRONMENT value and `cluster.environment` in CEL. */
export const ENV_CLUSTER_ENVIRONMENT = "TESSERA_ENVIRONMENT";
/** Controller env: the issuer's public https URL (the `iss` of minted tokens). */
export const ENV_ISSUER_PUBLIC_URL = "TESSERA_ISSUER_PUBLIC_URL";
/** Controller env: audience a projected service-account token must carry to be exchanged. */
export const ENV_SUBJECT_AUDIENCE = "TESSERA_SUBJECT_AUDIENCE";
/** Controller env: ports of the issuer, the admission webhook and the health/metrics listener. */
export const ENV_ISSUER_PORT = "TESSERA_ISSUER_PORT";
export const ENV_ADMISSION_PORT = "TESSERA_ADMISSION_PORT";
export const ENV_HEALTH_PORT = "TESSERA_HEALTH_PORT";
/** Controller env: address the servers bind (0.0.0.0 in a pod, 127.0.0.1 for local runs). */
export const ENV_BIND_ADDRESS = "TESSERA_BIND_ADDRESS";
/** Controller env: leader Lease timings in seconds. */
export const ENV_LEASE_DURATION_SECONDS = "TESSERA_LEASE_DURATION_SECONDS";
export const ENV_RENEW_DEADLINE_SECONDS = "TESSERA_RENEW_DEADLINE_SECONDS";
export const ENV_RETRY_PERIOD_SECONDS = "TESSERA_RETRY_PERIOD_SECONDS";
/**
 * Controller env: serving TLS of the issuer and webhook, both read from SECRET_WEBHOOK_TLS: "self-managed" (the
 * leader issues and renews it with Tessera's own CA) or "cert-manager" (cert-manager writes it).
 */
export const ENV_TLS_MODE = "TESSERA_TLS_MODE";
/** Controller env: comma-separated names of the serving certificate (the Services of the issuer and webhook); IP addresses become IP SANs. */
export const ENV_SERVING_DNS_NAMES = "TESSERA_SERVING_DNS_NAMES";
/** Controller env: `iss` of the cluster's projected service-account tokens. */
export const ENV_SERVICE_ACCOUNT_ISSUER = "TESSERA_SERVICE_ACCOUNT_ISSUER";
/** Controller env: the sidecar image the webhook injects (pinned by digest in production). */
export const ENV_SIDECAR_IMAGE = "TESSERA_SIDECAR_IMAGE";
/**
 * Controller env: port of the metrics listener the injected sidecar opens on the pod IP (it sets the sidecar's
 * ENV_SIDECAR_METRICS_PORT and names the container port SIDECAR_METRICS_PORT_NAME); unset, the default, opens none.
 */
export const ENV_INJECT_SIDECAR_METRICS_PORT = "TESSERA_INJECT_SIDECAR_METRICS_PORT";
/** Name of the injected sidecar's metrics container port, for a PodMonitor to select. */
export const SIDECAR_METRICS_PORT_NAME = "tessera-metrics";
/** Controller env: ConfigMap (present in every opted-in namespace) holding the issuer CA bundle under ca.crt. */
export const ENV_ISSUER_CA_CONFIGMAP = "TESSERA_ISSUER_CA_CONFIGMAP";
/**
 * Controller env: "true" (default) makes the leader publish that ConfigMap, from the serving Secret's ca.crt, in
 * every namespace that opted in or holds an opted-in pod; "false" leaves it to the operator's tooling (trust-manager).
 */
export const ENV_PUBLISH_ISSUER_CA = "TESSERA_PUBLISH_ISSUER_CA";
/** Controller env: comma-separated service accounts ("namespace/name" or "namespace/*") allowed to introspect. */
export const ENV_INTROSPECT_CALLERS = "TESSERA_INTROSPECT_CALLERS";
/** Controller env: service accounts allowed to revoke tokens, same format. */
export const ENV_REVOKE_CALLERS = "TESSERA_REVOKE_CALLERS";
/** Controller env: service accounts allowed to ask explain, same format. */
export const ENV_EXPLAIN_CALLERS = "TESSERA_EXPLAIN_CALLERS";
/** Controller env: how subject tokens are verified, "tokenreview" (ask the apiserver) or "jwks" (verify locally). */
export const ENV_TOKEN_REVIEW_MODE = "TESSERA_TOKEN_REVIEW_MODE";
/** Controller env: algorithm of new signing keys, "ES256" (default) or "EdDSA"; a change rotates to a pre-published key. */
export const ENV_SIGNING_ALGORITHM = "TESSERA_SIGNING_ALGORITHM";
/** Controller env: how long a signing key signs before its successor takes over, in seconds (default one week). */
export const ENV_KEY_ROTATION_SECONDS = "TESSERA_KEY_ROTATION_SECONDS";
/**
 * Controller env: longest lifetime of a minted token in seconds (default 86400, the largest ttlSeconds a policy may
 * set); longer grants are clamped, and retired keys and revoked ids are kept this long.
 */
export const ENV_MAX_TOKEN_TTL_SECONDS = "TESSERA_MAX_TOKEN_TTL_SECONDS";
/** Controller env: most audiences admission accepts in one pod's annotation, 1 to MAX_AUDIENCES_PER_POD (the default). */
export const ENV_MAX_AUDIENCES_PER_POD = "TESSERA_MAX_AUDIENCES_PER_POD";
/** Controller env: most /v1/watch long-polls one pod may hold open at once (default 4); a newer one answers the oldest. */
export const ENV_MAX_WATCHERS_PER_POD = "TESSERA_MAX_WATCHERS_PER_POD";
/** Controller env: most unexpired revocations one caller (service account) may hold in the list (default 1000). */
export const ENV_MAX_REVOCATIONS_PER_CALLER = "TESSERA_MAX_REVOCATIONS_PER_CALLER";
/** Controller env: sustained token exchanges per second one pod may make at each issuer replica (default 5). */
export const ENV_POD_EXCHANGES_PER_SECOND = "TESSERA_POD_EXCHANGES_PER_SECOND";
/** Controller env: exchanges one pod may make at once after a quiet spell, the bucket size (default 50). */
export const ENV_POD_EXCHANGE_BURST = "TESSERA_POD_EXCHANGE_BURST";
/**
 * Controller env: TokenReviews per second one replica may send the apiserver, subject tokens and audit callers
 * together (default 50); past it, a token not yet reviewed is answered temporarily_unavailable at once.
 */
export const ENV_TOKEN_REVIEWS_PER_SECOND = "TESSERA_TOKEN_REVIEWS_PER_SECOND";
/** Controller env: TokenReviews one replica may send at once after a quiet spell, the bucket size (default 100). */
export const ENV_TOKEN_REVIEW_BURST = "TESSERA_TOKEN_REVIEW_BURST";
/** Controller env: kubeconfig path; unset means in-cluster service-account credentials. */
export const ENV_KUBECONFIG = "KUBECONFIG";

// ---------------------------------------------------------------------------------------------------------
// Sender-constrained tokens (DPoP, RFC 9449) and the verifier kit (verify/)
// ---------------------------------------------------------------------------------------------------------

/** JOSE header `typ` of a DPoP proof (RFC 9449 section 4.2). */
export const DPOP_PROOF_TYP = "dpop+jwt";
/** HTTP header carrying a DPoP proof, to the issuer's token endpoint and to an API. */
export const HEADER_DPOP = "DPoP";
/** HTTP header a server sends a fresh DPoP nonce in (RFC 9449 section 8). */
export const HEADER_DPOP_NONCE = "DPoP-Nonce";
/** token_type of a DPoP-bound token and the Authorization scheme it is sent with (RFC 9449 section 5 and 7.1). */
export const TOKEN_TYPE_DPOP = "DPoP";
/** token_type of an unbound token and its Authorization scheme (RFC 6750). */
export const TOKEN_TYPE_BEARER = "Bearer";
/** Claim holding the key a token is bound to (RFC 7800); Tessera sets only `jkt` in it (RFC 9449 section 6.1). */
export const CLAIM_CONFIRMATION = "cnf";
/** Member of CLAIM_CONFIRMATION: the RFC 7638 SHA-256 thumbprint of the bound public key. */
export const CONFIRMATION_JKT = "jkt";
/**
 * Algorithms a DPoP proof may be signed with, at the issuer and in the kit; the sidecar signs with the first.
 * Advertised as `dpop_signing_alg_values_supported`. Asymmetric only (RFC 9449 section 4.2): never `none` or HMAC.
 */
export const DPOP_SIGNING_ALGORITHMS = ["ES256", "EdDSA"] as const;
/**
 * Sidecar env: when exchanges carry a DPoP proof. "when-required" (default): for a token once the issuer refused it
 * without one (its policy requires binding), and from then on; "always": every exchange, so every token is bound.
 */
export const ENV_DPOP = "TESSERA_DPOP";
/** Sidecar endpoint that signs a DPoP proof for the workload: POST { method, url, access_token?, nonce? } -> { proof }. */
export const SIDECAR_PATH_PROOF = "/v1/proof";
/**
 * Sidecar local API: GET ?actor=SUB&audience=A[&scope=S]: a delegation grant minted for this pod, naming the actor (a
 * service account's subject) that may use it for audience A with at most scopes S. Hand the grant to the actor; never
 * this pod's own token.
 */
export const SIDECAR_PATH_DELEGATION = "/v1/delegation";
/**
 * Sidecar local API: POST {"grant", "audience", "scope"?}: exchanges a delegation grant this pod received for a token,
 * this pod's own projected token attached as the actor's proof of identity.
 */
export const SIDECAR_PATH_ACT = "/v1/act";
