// Admission metrics on an injected prom-client Registry: admissions by webhook, kind and result, and latency.
import { Counter, Histogram, type Registry } from "prom-client";

export type AdmissionResult = "allowed" | "patched" | "denied" | "error";

export interface AdmissionMetrics {
  observe(webhook: string, kind: string, result: AdmissionResult, seconds: number): void;
}

export function admissionMetrics(registry: Registry): AdmissionMetrics {
  const requests = new Counter({
    name: "tessera_admission_requests_total",
    help: "Admission requests handled, by webhook, object kind and result (allowed, patched, denied, error).",
    labelNames: ["webhook", "kind", "result"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "tessera_admission_duration_seconds",
    help: "Time to answer an admission request, by webhook.",
    labelNames: ["webhook"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  return {
    observe(webhook, kind, result, seconds) {
      requests.inc({ webhook, kind, result });
      duration.observe({ webhook }, seconds);
    },
  };
}
