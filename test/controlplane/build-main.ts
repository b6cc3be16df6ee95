// `npm run controlplane:build [-- --node]`: builds kube-apiserver, etcd, helm and promtool into the cache unless already
// there; with --node also the node tier's kubelet, kube-controller-manager, kube-scheduler and pause.
import { ensureBinaries } from "./build.ts";
import { loadControlPlaneConfig } from "./config.ts";
import { CHECK_BINARIES, CONTROL_PLANE_BINARIES, NODE_BINARIES } from "./versions.ts";

const config = loadControlPlaneConfig(process.env);
const base = [...CONTROL_PLANE_BINARIES, ...CHECK_BINARIES];
const names = process.argv.includes("--node") ? [...base, ...NODE_BINARIES] : base;
try {
  const paths = await ensureBinaries({
    cacheDir: config.cacheDir,
    env: process.env,
    names,
    log: (line) => {
      console.log(line);
    },
  });
  for (const name of names) console.log(`${name.padEnd(24)} ${paths[name]}`);
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
}
