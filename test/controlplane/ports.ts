// Free TCP ports on the loopback interface, asked of the kernel rather than guessed.
import { createServer } from "node:net";
import { ControlPlaneError } from "./errors.ts";

/** Binds 127.0.0.1:0, reads the port the kernel picked, and releases it for the caller to bind. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", (err) => {
      reject(new ControlPlaneError("NO_FREE_PORT", `cannot bind a loopback port: ${err.message}`, { cause: err }));
    });
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => {
        if (port > 0) resolvePort(port);
        else reject(new ControlPlaneError("NO_FREE_PORT", "the kernel returned no port"));
      });
    });
  });
}

/** `count` distinct free ports (held open together so the kernel cannot hand out the same one twice). */
export async function freeLoopbackPorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freeLoopbackPort());
  return [...ports];
}
