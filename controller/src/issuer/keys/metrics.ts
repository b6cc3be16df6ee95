// Signing key metrics on an injected registry, read at scrape time: when the signing key took over, the configured
// rotation period, and how many keys are published in each state.
import { Gauge, type Registry } from "prom-client";
import type { KeySetStatus } from "./signing-keys.ts";

export interface KeySetStatusSource {
  status(): KeySetStatus;
}

/**
 * Timestamps rather than ages: Prometheus computes the age with time(), so an alert ("older than its rotation
 * period") compares two series from the same scrape and stays right however often it is scraped.
 */
export function signingKeyMetrics(registry: Registry, keys: KeySetStatusSource, rotationSeconds: number): void {
  const registers = [registry];
  new Gauge({
    name: "tessera_signing_key_activated_timestamp_seconds",
    help: "Unix time the key that signs now started signing; 0 before the first key is loaded.",
    registers,
    collect() {
      this.set((keys.status().signingSince?.getTime() ?? 0) / 1000);
    },
  });
  new Gauge({
    name: "tessera_signing_key_rotation_period_seconds",
    help: "How long a key signs before its successor takes over (TESSERA_KEY_ROTATION_SECONDS).",
    registers,
    collect() {
      this.set(rotationSeconds);
    },
  });
  new Gauge({
    name: "tessera_signing_keys",
    help: "Keys published in the JWKS, by state: signing, pending (published before it signs) or retiring.",
    labelNames: ["state"],
    registers,
    collect() {
      const status = keys.status();
      this.set({ state: "signing" }, status.signingSince === undefined ? 0 : 1);
      this.set({ state: "pending" }, status.pending);
      this.set({ state: "retiring" }, status.retiring);
    },
  });
}
