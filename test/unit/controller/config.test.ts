// Controller config: flags over env, defaults, a frozen result, and one error listing every problem.
import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../../controller/src/config.ts";

const env = {
  TESSERA_NAMESPACE: "tessera-system",
  TESSERA_POD_NAME: "tessera-controller-0",
  TESSERA_CLUSTER_NAME: "eu-west-1",
  TESSERA_ENVIRONMENT: "prod",
  TESSERA_ISSUER_PUBLIC_URL: "https://tessera.example/",
  KUBERNETES_SERVICE_HOST: "10.0.0.1",
  TESSERA_SIDECAR_IMAGE: "ghcr.io/tessera/sidecar@sha256:0123",
};

function problems(argv: string[], e: Record<string, string | undefined>): readonly string[] {
  try {
    parseConfig(argv, e);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe("parseConfig", () => {
  it("applies defaults and freezes the result", () => {
    const config = parseConfig([], env);
    expect(config).toMatchObject({
      namespace: "tessera-system",
      issuerUrl: "https://tessera.example",
      subjectAudience: "tessera.dev/issuer",
      ports: { issuer: 8443, admission: 9443, health: 8080 },
      lease: { durationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 },
      tls: { mode: "self-managed", dnsNames: ["tessera.tessera-system.svc", "tessera.example"], ipAddresses: [] },
      tokenReviewMode: "tokenreview",
      kubeconfig: undefined,
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.lease)).toBe(true);
  });

  it.each([
    ["signs with ES256, rotates weekly and caps tokens at an hour by default", {}, { algorithm: "ES256", rotationSeconds: 604_800, maxTokenTtlSeconds: 3600 }],
    ["accepts EdDSA", { TESSERA_SIGNING_ALGORITHM: "EdDSA" }, { algorithm: "EdDSA" }],
    ["takes a rotation period and a maximum token TTL", { TESSERA_KEY_ROTATION_SECONDS: "86400", TESSERA_MAX_TOKEN_TTL_SECONDS: "86400" }, { rotationSeconds: 86_400, maxTokenTtlSeconds: 86_400 }],
  ])("%s", (_name, override, expected) => {
    const config = parseConfig([], { ...env, ...override });
    expect(config.signing).toMatchObject({ ...expected, prePublicationSeconds: 600, reloadSeconds: 30 });
    expect(Object.isFrozen(config.signing)).toBe(true);
  });

  it.each([
    ["an issuer URL with a DNS name adds a DNS name", { TESSERA_ISSUER_PUBLIC_URL: "https://tessera.example" }, ["tessera.tessera-system.svc", "tessera.example"], []],
    ["an issuer URL with an IPv4 address adds an IP address", { TESSERA_ISSUER_PUBLIC_URL: "https://127.0.0.1:8443" }, ["tessera.tessera-system.svc"], ["127.0.0.1"]],
    ["an issuer URL with an IPv6 address adds it without brackets", { TESSERA_ISSUER_PUBLIC_URL: "https://[::1]:8443" }, ["tessera.tessera-system.svc"], ["::1"]],
    ["explicit serving names are split into DNS names and IP addresses", { TESSERA_SERVING_DNS_NAMES: "tessera.svc, 10.0.0.7 ,tessera.example" }, ["tessera.svc", "tessera.example"], ["10.0.0.7"]],
  ])("%s", (_name, override, dnsNames, ipAddresses) => {
    expect(parseConfig([], { ...env, ...override }).tls).toEqual({ mode: "self-managed", dnsNames, ipAddresses });
  });

  it.each([
    ["publishes the issuer CA ConfigMap by default", [], {}, { issuerCaConfigMap: "tessera-issuer-ca", publishIssuerCa: true }],
    ["turns publishing off from the env", [], { TESSERA_PUBLISH_ISSUER_CA: "false" }, { publishIssuerCa: false }],
    ["turns publishing off with a flag, keeping the ConfigMap name the webhook mounts", ["--publish-issuer-ca=false", "--issuer-ca-configmap=corp-ca"], {}, { issuerCaConfigMap: "corp-ca", publishIssuerCa: false }],
  ])("%s", (_name, argv, override, expected) => {
    expect(parseConfig(argv, { ...env, ...override })).toMatchObject(expected);
  });

  it("applies the default caps, and takes each one from its env", () => {
    expect(parseConfig([], env).limits).toEqual({
      audiencesPerPod: 16,
      watchersPerPod: 4,
      revocationsPerCaller: 1000,
      podExchangesPerSecond: 5,
      podExchangeBurst: 50,
      tokenReviewsPerSecond: 50,
      tokenReviewBurst: 100,
    });
    const set = parseConfig([], {
      ...env,
      TESSERA_MAX_AUDIENCES_PER_POD: "3",
      TESSERA_MAX_WATCHERS_PER_POD: "2",
      TESSERA_MAX_REVOCATIONS_PER_CALLER: "50",
      TESSERA_POD_EXCHANGES_PER_SECOND: "0.5",
      TESSERA_POD_EXCHANGE_BURST: "8",
      TESSERA_TOKEN_REVIEWS_PER_SECOND: "2.5",
      TESSERA_TOKEN_REVIEW_BURST: "7",
    });
    expect(set.limits).toEqual({
      audiencesPerPod: 3,
      watchersPerPod: 2,
      revocationsPerCaller: 50,
      podExchangesPerSecond: 0.5,
      podExchangeBurst: 8,
      tokenReviewsPerSecond: 2.5,
      tokenReviewBurst: 7,
    });
    expect(Object.isFrozen(set.limits)).toBe(true);
  });

  it.each([
    ["more audiences than the sidecar accepts", "TESSERA_MAX_AUDIENCES_PER_POD", "17"],
    ["no audience at all", "TESSERA_MAX_AUDIENCES_PER_POD", "0"],
    ["a fractional watcher count", "TESSERA_MAX_WATCHERS_PER_POD", "1.5"],
    ["a per-caller share above the whole revocation list", "TESSERA_MAX_REVOCATIONS_PER_CALLER", "10001"],
    ["a zero exchange rate", "TESSERA_POD_EXCHANGES_PER_SECOND", "0"],
    ["a burst that is not a number", "TESSERA_POD_EXCHANGE_BURST", "lots"],
    ["a negative TokenReview rate", "TESSERA_TOKEN_REVIEWS_PER_SECOND", "-1"],
    ["a fractional TokenReview burst", "TESSERA_TOKEN_REVIEW_BURST", "2.5"],
  ])("refuses %s", (_name, name, value) => {
    expect(problems([], { ...env, [name]: value })).toEqual([expect.stringContaining(name)]);
  });

  it.each([
    ["opens no sidecar metrics port by default", {}, undefined],
    ["injects the configured sidecar metrics port", { TESSERA_INJECT_SIDECAR_METRICS_PORT: "9464" }, 9464],
  ])("%s", (_name, override, expected) => {
    expect(parseConfig([], { ...env, ...override }).sidecarMetricsPort).toBe(expected);
  });

  it.each([
    ["a sidecar metrics port that is the sidecar's token port", "8777"],
    ["a sidecar metrics port that is not a port", "metrics"],
  ])("refuses %s", (_name, value) => {
    expect(problems([], { ...env, TESSERA_INJECT_SIDECAR_METRICS_PORT: value })).toEqual([expect.stringContaining("TESSERA_INJECT_SIDECAR_METRICS_PORT")]);
  });

  it("takes the signing algorithm as a flag too", () => {
    expect(parseConfig(["--signing-algorithm=EdDSA"], env).signing.algorithm).toBe("EdDSA");
  });

  it("parses the audit caller allowlists", () => {
    expect(parseConfig([], { ...env, TESSERA_INTROSPECT_CALLERS: "audit/auditor, security/*" }).callers).toEqual({
      introspect: ["audit/auditor", "security/*"],
      revoke: [],
      explain: [],
    });
  });

  it("lets a flag win over the env", () => {
    expect(parseConfig(["--cluster-name=us-east-2", "--lease-duration-seconds", "30"], env)).toMatchObject({ clusterName: "us-east-2", lease: { durationMs: 30_000 } });
  });

  it("lists every problem in one error with the INVALID_CONFIG code", () => {
    let error: unknown;
    try {
      parseConfig(["--bogus=1"], { TESSERA_ISSUER_PUBLIC_URL: "http://x", TESSERA_ISSUER_PORT: "70000" });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe("INVALID_CONFIG");
    expect((error as ConfigError).problems.length).toBeGreaterThanOrEqual(7);
  });

  it.each([
    ["a missing namespace", { TESSERA_NAMESPACE: undefined }, "namespace is required"],
    ["a namespace that is not a DNS label", { TESSERA_NAMESPACE: "Tessera_System" }, "must be a DNS label"],
    ["a plain-http issuer URL", { TESSERA_ISSUER_PUBLIC_URL: "http://tessera.example" }, "must be https"],
    ["a renew deadline longer than the lease", { TESSERA_RENEW_DEADLINE_SECONDS: "20" }, "must be shorter than TESSERA_LEASE_DURATION_SECONDS"],
    ["an unknown TLS mode", { TESSERA_TLS_MODE: "files" }, "must be one of self-managed, cert-manager"],
    ["no sidecar image", { TESSERA_SIDECAR_IMAGE: undefined }, "sidecar image is required"],
    ["an unknown token review mode", { TESSERA_TOKEN_REVIEW_MODE: "trust-me" }, "must be one of tokenreview, jwks"],
    ["no credentials outside a pod", { KUBERNETES_SERVICE_HOST: undefined }, "no cluster credentials"],
    ["a malformed audit caller", { TESSERA_INTROSPECT_CALLERS: "auditor" }, 'must be "namespace/name" or "namespace/*"'],
    ["two servers on one port", { TESSERA_HEALTH_PORT: "8443" }, "ports must differ"],
    ["an unknown signing algorithm, naming the allowed ones", { TESSERA_SIGNING_ALGORITHM: "RS256" }, 'TESSERA_SIGNING_ALGORITHM must be one of ES256, EdDSA, got "RS256"'],
    ["a lower-case algorithm name", { TESSERA_SIGNING_ALGORITHM: "eddsa" }, "TESSERA_SIGNING_ALGORITHM must be one of ES256, EdDSA"],
    ["a rotation period under an hour", { TESSERA_KEY_ROTATION_SECONDS: "600" }, "TESSERA_KEY_ROTATION_SECONDS must be a whole number of seconds of at least 3600"],
    ["a maximum token TTL above a day", { TESSERA_MAX_TOKEN_TTL_SECONDS: "86401" }, "TESSERA_MAX_TOKEN_TTL_SECONDS must be a whole number of seconds from 60 to 86400"],
    ["a fractional maximum token TTL", { TESSERA_MAX_TOKEN_TTL_SECONDS: "90.5" }, "TESSERA_MAX_TOKEN_TTL_SECONDS must be a whole number"],
    ["a publish switch that is not true or false", { TESSERA_PUBLISH_ISSUER_CA: "yes" }, 'TESSERA_PUBLISH_ISSUER_CA must be one of true, false, got "yes"'],
    ["an issuer CA ConfigMap name that is not a ConfigMap name", { TESSERA_ISSUER_CA_CONFIGMAP: "Corp_CA" }, "TESSERA_ISSUER_CA_CONFIGMAP"],
  ])("reports %s", (_name, override, expected) => {
    expect(problems([], { ...env, ...override }).join("\n")).toContain(expected);
  });
});
