// `npm run controlplane:build`: builds kube-apiserver, etcd, helm and promtool into the cache unless already there.
import { ensureBinaries } from "./build.ts";
import { loadControlPlaneConfig } from "./config.ts";

const config = loadControlPlaneConfig(process.env);
try {
  const paths = await ensureBinaries({
    cacheDir: config.cacheDir,
    env: process.env,
    log: (line) => {
      console.log(line);
    },
  });
  for (const [name, path] of Object.entries(paths)) console.log(`${name.padEnd(15)} ${path}`);
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
}
