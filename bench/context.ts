// What every part of the bench shares: the control plane, admin clients, CPU assignment, durations and a scratch dir.
import type { ControlPlane } from "../test/controlplane/harness.ts";
import type { KubeClients } from "../test/integration/support/index.ts";
import type { Figure, ProfileEntry } from "./figures.ts";

export interface Durations {
  /** Seconds of each maximum-rate wrk run. */
  readonly loadSeconds: number;
  readonly warmupSeconds: number;
  /** Distinct pods (and projected tokens) issuance rotates through. */
  readonly pods: number;
  /** TokenPolicy edits timed for propagation. */
  readonly edits: number;
  /** Pod CREATEs timed through the apiserver for admission. */
  readonly admissionCreates: number;
  /** Sidecar cold starts timed. */
  readonly sidecarStarts: number;
}

export interface BenchContext {
  readonly controlPlane: ControlPlane;
  readonly clients: KubeClients;
  /** server: the process under test; load: wrk, the bench itself, etcd and the apiserver. */
  readonly cpus: { readonly server: number | undefined; readonly load: number | undefined };
  readonly durations: Durations;
  readonly connections: number;
  readonly scratchDir: string;
  /** The controller as the image runs it (tsc output, relative to the repository root), compiled once per run. */
  readonly controllerScript: string;
  /** Where the issuer's raw .cpuprofile is copied (--keep-profile); undefined: it goes with the scratch dir. */
  readonly profileDir?: string | undefined;
  readonly log: (line: string) => void;
  readonly figures: Figure[];
  cpuProfile?: { byArea: ProfileEntry[]; topFunctions: ProfileEntry[] };
}
