// Every replica's view of the signing keys: loaded from the KeyStore, reloaded periodically, rotated by the leader.
import type { Logger } from "pino";
import { IssuerError, isIssuerError } from "../errors.ts";
import { generateKeyRecord, loadSigningKey, type PublicJwk, type SigningKey } from "./keys.ts";
import type { KeyStore } from "./key-store.ts";
import { planRotation, signingRecord, type RotationSchedule } from "./rotation.ts";

export interface SigningKeysOptions {
  readonly store: KeyStore;
  readonly now: () => Date;
  readonly logger: Logger;
}

/** What the rotation loop does on each tick. */
export interface SigningKeysLoop {
  readonly schedule: RotationSchedule;
  /** True on the replica that holds the leader lease; only it writes the key set. */
  readonly isLeader: () => boolean;
  /** How often every replica reloads (and the leader re-plans). */
  readonly intervalMs: number;
}

/** What this replica has loaded, for metrics: when the signing key took over, and how many keys are in each state. */
export interface KeySetStatus {
  /** Activation time of the key that signs now; undefined before the first key. */
  readonly signingSince: Date | undefined;
  /** Published, activating later (a successor being pre-published). */
  readonly pending: number;
  /** Published, superseded, kept until the last token it signed expires. */
  readonly retiring: number;
}

export class SigningKeys {
  readonly #options: SigningKeysOptions;
  #keys: readonly SigningKey[] = [];
  #loaded = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: SigningKeysOptions) {
    this.#options = options;
  }

  /** True once a key set with a signing key has been loaded. */
  get ready(): boolean {
    return this.#loaded && signingRecord(this.#keys.map(asRecordView), this.#options.now()) !== undefined;
  }

  /** The key that signs now; throws KeysUnavailable before the first key exists. */
  current(): SigningKey {
    const view = signingRecord(this.#keys.map(asRecordView), this.#options.now());
    if (view === undefined) throw new IssuerError("KeysUnavailable", "the issuer has no signing key yet; retry shortly");
    return view.key;
  }

  status(): KeySetStatus {
    const now = this.#options.now();
    const signing = signingRecord(this.#keys.map(asRecordView), now);
    const pending = this.#keys.filter((k) => k.activateAt.getTime() > now.getTime()).length;
    const retiring = this.#keys.length - pending - (signing === undefined ? 0 : 1);
    return { signingSince: signing?.key.activateAt, pending, retiring };
  }

  /** Every published key: pending, signing and retiring ones. */
  jwks(): { readonly keys: readonly PublicJwk[] } {
    return { keys: this.#keys.map((k) => k.publicJwk) };
  }

  /** The published key with `kid`, for verifying Tessera's own tokens (actor tokens, introspection). */
  verificationKey(kid: string): SigningKey | undefined {
    return this.#keys.find((k) => k.kid === kid);
  }

  /** Reads the store; a damaged record is skipped (and logged) rather than taking every key down with it. */
  async reload(): Promise<void> {
    const { records } = await this.#options.store.load();
    const keys: SigningKey[] = [];
    for (const record of records) {
      try {
        keys.push(loadSigningKey(record));
      } catch (error) {
        this.#options.logger.error({ kid: record.kid, err: error }, "skipping an unusable signing key");
      }
    }
    this.#keys = keys;
    this.#loaded = true;
  }

  /** One leader step: plan against the stored set and write the result. Returns true when it wrote. */
  async rotate(schedule: RotationSchedule): Promise<boolean> {
    const now = this.#options.now();
    const stored = await this.#options.store.load();
    const plan = planRotation(stored.records, now, schedule);
    if (plan.generate === undefined && plan.retire.length === 0) return false;
    const kept = stored.records.filter((r) => !plan.retire.includes(r.kid));
    const next =
      plan.generate === undefined ? kept : [...kept, generateKeyRecord(schedule.algorithm, now, plan.generate.activateAt)];
    try {
      await this.#options.store.save(next, stored.version);
    } catch (error) {
      // Another writer won the race; the next tick plans against what it wrote.
      if (isIssuerError(error, "KeyStoreConflict")) return false;
      throw error;
    }
    this.#options.logger.info(
      { generated: plan.generate?.activateAt.toISOString(), retired: plan.retire },
      "signing keys rotated",
    );
    return true;
  }

  /** Loads once (rotating first on the leader), then keeps reloading on an interval. */
  async start(loop: SigningKeysLoop): Promise<void> {
    await this.#tick(loop);
    this.#timer = setInterval(() => {
      void this.#tick(loop);
    }, loop.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #tick(loop: SigningKeysLoop): Promise<void> {
    try {
      if (loop.isLeader()) await this.rotate(loop.schedule);
      await this.reload();
    } catch (error) {
      // Keep serving the keys already loaded; the next tick retries.
      this.#options.logger.error({ err: error }, "signing keys refresh failed");
    }
  }
}

function asRecordView(key: SigningKey): { kid: string; activateAt: string; key: SigningKey } {
  return { kid: key.kid, activateAt: key.activateAt.toISOString(), key };
}
