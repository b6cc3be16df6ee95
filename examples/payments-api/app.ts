// The payments API that checkout's tokens are for, written with Tessera's verifier kit: each route states what it needs.
import express, { type Express } from "express";
import { tokenGuard, type Verifier } from "../../verify/index.ts";

export interface PaymentsApiOptions {
  readonly verifier: Verifier;
  /** The origin clients call the API at; DPoP proofs name it. */
  readonly origin: string;
}

/** Scopes of the routes, as the internal-api example's TokenPolicy grants them. */
export const PAYMENTS_SCOPES = { read: "payments.read", charge: "payments.charge" } as const;

export function paymentsApi(options: PaymentsApiOptions): Express {
  const { requireToken } = tokenGuard(options.verifier, { origin: options.origin });
  const app = express();
  app.disable("x-powered-by");

  app.get("/v1/balance", requireToken({ scopes: [PAYMENTS_SCOPES.read] }), (req, res) => {
    res.json({ tenant: req.tessera?.token.raw["tenant"], balance: { currency: "EUR", amount: 1250 } });
  });

  // A charge needs the charge scope and a tenant to charge: the policy computes the tenant claim from the namespace label.
  app.post(
    "/v1/charges",
    requireToken({
      scopes: [PAYMENTS_SCOPES.charge],
      claims: (token) => (typeof token.raw["tenant"] === "string" ? true : "the token names no tenant to charge"),
    }),
    (req, res) => {
      const token = req.tessera?.token;
      res.status(201).json({
        charged: true,
        tenant: token?.raw["tenant"],
        caller: token?.sub,
        pod: token?.pod?.name,
        binding: req.tessera?.binding,
      });
    },
  );
  return app;
}
