// The one place @peculiar/x509 is loaded: it needs the reflect-metadata polyfill and Node's WebCrypto set first.
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto);

export { x509 };
