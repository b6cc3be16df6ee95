// The discovery document: every endpoint under the issuer URL, the algorithms Tessera signs with, bearer-authenticated audit endpoints.
import { describe, expect, it } from "vitest";
import { discoveryDocument } from "../../../../controller/src/issuer/keys/discovery.ts";

describe("discoveryDocument", () => {
  it.each([
    ["an issuer URL without a trailing slash", "https://tessera.example.com"],
    ["an issuer URL with a trailing slash", "https://tessera.example.com/"],
  ])("names every endpoint under %s", (_name, issuer) => {
    expect(discoveryDocument(issuer)).toMatchObject({
      issuer,
      jwks_uri: "https://tessera.example.com/.well-known/jwks.json",
      token_endpoint: "https://tessera.example.com/v1/token",
      introspection_endpoint: "https://tessera.example.com/v1/introspect",
      revocation_endpoint: "https://tessera.example.com/v1/revoke",
      explain_endpoint: "https://tessera.example.com/v1/explain",
    });
  });

  it("announces the signing algorithms and how the audit endpoints authenticate", () => {
    expect(discoveryDocument("https://tessera.example.com")).toMatchObject({
      access_token_signing_alg_values_supported: ["ES256", "EdDSA"],
      introspection_endpoint_auth_methods_supported: ["bearer"],
      revocation_endpoint_auth_methods_supported: ["bearer"],
      grant_types_supported: ["urn:ietf:params:oauth:grant-type:token-exchange"],
    });
  });
});
