// Server-provided DPoP nonces (RFC 9449 section 9) without state: an HMAC over a time slot, valid for two slots.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export interface NonceSourceOptions {
  /** Key of the HMAC; share it across replicas so any of them accepts another's nonce. 32 random bytes when absent. */
  readonly secret?: Uint8Array;
  /** Length of a slot: a nonce is accepted in its own slot and the next one. */
  readonly slotSeconds: number;
  readonly now: () => number;
}

export interface NonceSource {
  /** The nonce for the current slot (the same for every caller in it). */
  readonly current: () => string;
  /** Whether `nonce` is the current slot's or the previous one's. */
  readonly accepts: (nonce: string) => boolean;
}

const MAC_BYTES = 16;
const ENCODED_CHARS = Math.ceil(((8 + MAC_BYTES) * 4) / 3);

export function nonceSource(options: NonceSourceOptions): NonceSource {
  if (!(options.slotSeconds >= 1)) throw new TypeError("slotSeconds must be at least 1");
  const secret = options.secret ?? randomBytes(32);
  const slotOf = (): number => Math.floor(options.now() / 1000 / options.slotSeconds);
  const encode = (slot: number): Buffer => {
    const prefix = Buffer.alloc(8);
    prefix.writeBigUInt64BE(BigInt(slot));
    const mac = createHmac("sha256", secret).update(prefix).digest().subarray(0, MAC_BYTES);
    return Buffer.concat([prefix, mac]);
  };
  return {
    current: () => encode(slotOf()).toString("base64url"),
    accepts: (nonce) => {
      // The nonce comes from the client: bound it before decoding anything.
      if (nonce.length !== ENCODED_CHARS || !/^[A-Za-z0-9_-]+$/.test(nonce)) return false;
      const bytes = Buffer.from(nonce, "base64url");
      if (bytes.length !== 8 + MAC_BYTES) return false;
      const slot = Number(bytes.readBigUInt64BE(0));
      const now = slotOf();
      if (slot !== now && slot !== now - 1) return false;
      return timingSafeEqual(bytes, encode(slot));
    },
  };
}
