// Leader election as a pure state machine: what to do with the Lease we just read, judged by our own clock only.

/** The Lease fields election reads and writes (coordination.k8s.io/v1 LeaseSpec). */
export interface LeaseSpec {
  readonly holderIdentity?: string;
  readonly leaseDurationSeconds?: number;
  readonly acquireTime?: string;
  readonly renewTime?: string;
  readonly leaseTransitions?: number;
}

export interface ObservedLease {
  readonly spec: LeaseSpec;
  readonly resourceVersion: string;
}

export interface LeaderState {
  /** The last record seen, and when (our clock) it was first seen: remote clocks are never trusted. */
  readonly observed?: { readonly key: string; readonly atMs: number };
  /** When we last wrote the lease as holder (our clock); leadership lasts renewDeadline past it. */
  readonly lastRenewMs?: number;
  /**
   * The record this process last wrote, and the one it is writing or last failed to write (a reply lost on the way
   * may still have been applied). Only a lease showing one of them is ours to renew: the identity is the pod's name,
   * which a container restarted after a crash keeps, and that new process never held its predecessor's lease.
   */
  readonly ownRecord?: string;
  readonly attemptedRecord?: string;
}

export interface LeaderTiming {
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
}

export type LeaseStep =
  | { readonly kind: "create"; readonly spec: LeaseSpec }
  | { readonly kind: "update"; readonly spec: LeaseSpec; readonly resourceVersion: string }
  | { readonly kind: "wait"; readonly holder: string };

function recordKey(spec: LeaseSpec): string {
  return `${spec.holderIdentity ?? ""}|${spec.renewTime ?? ""}|${spec.leaseTransitions ?? 0}`;
}

/** Remembers the record a write is about to put in the lease, so a reply lost on the way still leaves it ours. */
export function attemptWrite(state: LeaderState, spec: LeaseSpec): LeaderState {
  return { ...state, attemptedRecord: recordKey(spec) };
}

/** The record the apiserver accepted from us, as it returned it. */
export function recordWritten(state: LeaderState, spec: LeaseSpec): LeaderState {
  const { attemptedRecord: _done, ...rest } = state;
  return { ...rest, ownRecord: recordKey(spec) };
}

function isOwnRecord(state: LeaderState, spec: LeaseSpec): boolean {
  const key = recordKey(spec);
  return key === state.ownRecord || key === state.attemptedRecord;
}

/** Updates what we have observed of the lease (a changed record restarts its expiry clock). */
export function observe(state: LeaderState, lease: ObservedLease | undefined, nowMs: number): LeaderState {
  if (lease === undefined) {
    const { observed: _dropped, ...rest } = state;
    return rest;
  }
  const key = recordKey(lease.spec);
  if (state.observed?.key === key) return state;
  return { ...state, observed: { key, atMs: nowMs } };
}

/** True while our last successful renewal is younger than the renew deadline: writers check this before each write. */
export function holdsLeadership(state: LeaderState, nowMs: number, timing: LeaderTiming): boolean {
  return state.lastRenewMs !== undefined && nowMs - state.lastRenewMs < timing.renewDeadlineMs;
}

/** Decides the next write (or none) given the lease as read and the state after observing it. */
export function planStep(
  identity: string,
  state: LeaderState,
  lease: ObservedLease | undefined,
  now: Date,
  timing: LeaderTiming,
): LeaseStep {
  const nowIso = now.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
  const durationSeconds = Math.ceil(timing.leaseDurationMs / 1000);
  if (lease === undefined) {
    return {
      kind: "create",
      spec: { holderIdentity: identity, leaseDurationSeconds: durationSeconds, acquireTime: nowIso, renewTime: nowIso, leaseTransitions: 0 },
    };
  }
  const holder = lease.spec.holderIdentity ?? "";
  // Our name on a record we did not write is an earlier process of this pod (crashed, restarted by the kubelet):
  // like any other holder's, it is taken only once it has gone unrenewed for a lease, so the other replicas, which
  // have watched it age, take over first and a restarted container does not skip the handover.
  if (holder === identity && isOwnRecord(state, lease.spec)) {
    return { kind: "update", resourceVersion: lease.resourceVersion, spec: { ...lease.spec, leaseDurationSeconds: durationSeconds, renewTime: nowIso } };
  }
  const leaseMs = (lease.spec.leaseDurationSeconds ?? durationSeconds) * 1000;
  const observedAt = state.observed?.atMs ?? now.getTime();
  const expired = holder === "" || now.getTime() - observedAt >= leaseMs;
  if (!expired) return { kind: "wait", holder };
  return {
    kind: "update",
    resourceVersion: lease.resourceVersion,
    spec: {
      holderIdentity: identity,
      leaseDurationSeconds: durationSeconds,
      acquireTime: nowIso,
      renewTime: nowIso,
      leaseTransitions: (lease.spec.leaseTransitions ?? 0) + 1,
    },
  };
}

/** The spec written on graceful release: no holder, so another replica takes over at once. */
export function releaseSpec(lease: LeaseSpec, now: Date): LeaseSpec {
  const nowIso = now.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
  return { ...lease, holderIdentity: "", leaseDurationSeconds: 1, renewTime: nowIso };
}
