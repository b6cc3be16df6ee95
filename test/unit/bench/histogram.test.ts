// Quantiles from the apiserver's Prometheus histograms.
import { describe, expect, it } from "vitest";
import { histogramBuckets, histogramQuantile, subtractBuckets } from "../../../bench/histogram.ts";

const METRICS = [
  "# HELP apiserver_admission_webhook_admission_duration_seconds ...",
  'apiserver_admission_webhook_admission_duration_seconds_bucket{name="a.tessera.dev",operation="CREATE",rejected="false",type="admit",le="0.005"} 60',
  'apiserver_admission_webhook_admission_duration_seconds_bucket{name="a.tessera.dev",operation="CREATE",rejected="false",type="admit",le="0.025"} 90',
  'apiserver_admission_webhook_admission_duration_seconds_bucket{name="a.tessera.dev",operation="CREATE",rejected="false",type="admit",le="+Inf"} 100',
  'apiserver_admission_webhook_admission_duration_seconds_bucket{name="a.tessera.dev",operation="UPDATE",rejected="false",type="admit",le="0.005"} 7',
  'apiserver_admission_webhook_admission_duration_seconds_count{name="a.tessera.dev",operation="CREATE",rejected="false",type="admit"} 100',
].join("\n");

describe("histogramBuckets", () => {
  it("keeps the series whose labels match and sorts them by bound", () => {
    expect(histogramBuckets(METRICS, "apiserver_admission_webhook_admission_duration_seconds", { operation: "CREATE" })).toEqual([
      { le: 0.005, count: 60 },
      { le: 0.025, count: 90 },
      { le: Number.POSITIVE_INFINITY, count: 100 },
    ]);
  });
});

describe("histogramQuantile", () => {
  const buckets = [
    { le: 0.005, count: 60 },
    { le: 0.025, count: 90 },
    { le: Number.POSITIVE_INFINITY, count: 100 },
  ];

  it.each<[string, number, number]>([
    ["interpolates inside the first bucket from zero", 0.3, 0.0025],
    ["interpolates inside a later bucket", 0.75, 0.015],
    ["answers the last finite bound for a rank in +Inf", 0.99, 0.025],
  ])("%s", (_name, q, expected) => {
    expect(histogramQuantile(q, buckets)).toBeCloseTo(expected, 10);
  });

  it("is NaN for an empty histogram", () => {
    expect(histogramQuantile(0.5, [])).toBeNaN();
  });

  it("subtracts an earlier scrape so only the bench's observations count", () => {
    expect(subtractBuckets(buckets, [{ le: 0.005, count: 50 }])).toEqual([
      { le: 0.005, count: 10 },
      { le: 0.025, count: 90 },
      { le: Number.POSITIVE_INFINITY, count: 100 },
    ]);
  });
});
