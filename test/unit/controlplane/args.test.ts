// Command lines of etcd and kube-apiserver: the flags Tessera's tests rely on.
import { describe, expect, it } from "vitest";
import { apiserverArgs, etcdArgs } from "../../controlplane/args.ts";

const base = {
  etcdUrl: "http://127.0.0.1:2379",
  securePort: 6443,
  certDir: "/tmp/x/certs",
  servingCertFile: "/tmp/x/serving.pem",
  servingKeyFile: "/tmp/x/serving-key.pem",
  clientCaFile: "/tmp/x/ca.pem",
  saPublicKeyFile: "/tmp/x/sa.pub",
  saPrivateKeyFile: "/tmp/x/sa.key",
  extraAudiences: ["tessera.dev/issuer"],
  extraArgs: [],
};

describe("apiserverArgs", () => {
  it.each([
    ["binds loopback only", "--bind-address=127.0.0.1"],
    ["uses its own URL as service-account issuer", "--service-account-issuer=https://127.0.0.1:6443"],
    ["advertises a reachable JWKS", "--service-account-jwks-uri=https://127.0.0.1:6443/openid/v1/jwks"],
    ["accepts its own and Tessera's audience", "--api-audiences=https://127.0.0.1:6443,tessera.dev/issuer"],
    ["turns the ServiceAccount admission plugin off", "--disable-admission-plugins=ServiceAccount"],
    ["authorizes with RBAC", "--authorization-mode=RBAC"],
  ])("%s", (_name, flag) => {
    expect(apiserverArgs(base)).toContain(flag);
  });

  it("adds --authentication-config only when given a file", () => {
    expect(apiserverArgs(base).some((a) => a.startsWith("--authentication-config"))).toBe(false);
    expect(apiserverArgs({ ...base, authenticationConfigFile: "/tmp/x/authn.json" })).toContain(
      "--authentication-config=/tmp/x/authn.json",
    );
  });

  it("puts extra flags last, so they override the defaults", () => {
    const args = apiserverArgs({ ...base, extraArgs: ["--v=4", "--authorization-mode=AlwaysAllow"] });
    expect(args.slice(-2)).toEqual(["--v=4", "--authorization-mode=AlwaysAllow"]);
  });
});

describe("etcdArgs", () => {
  it("listens on loopback only and skips fsync for throwaway data", () => {
    const args = etcdArgs({ dataDir: "/tmp/x/etcd", clientPort: 2379, peerPort: 2380 });
    expect(args).toContain("--listen-client-urls=http://127.0.0.1:2379");
    expect(args).toContain("--listen-peer-urls=http://127.0.0.1:2380");
    expect(args).toContain("--unsafe-no-fsync");
  });
});
