// Serving TLS material as PEM: what the issuer and the admission webhook present, and what they reload.

/** PEM serving certificate (chain) and private key; a source returns the same content until the material changes. */
export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
}
