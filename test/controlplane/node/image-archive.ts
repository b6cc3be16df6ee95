// Packs a root filesystem directory as a single-layer image archive (the docker-archive layout `ctr images import`
// reads), so the node runs images without a registry.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { run } from "./run.ts";

/** The parts of an image's runtime config the node tier sets. */
export interface ImageConfig {
  readonly entrypoint?: readonly string[];
  readonly cmd?: readonly string[];
  readonly env?: readonly string[];
  readonly user?: string;
  readonly workingDir?: string;
}

export interface ImageArchiveParams {
  readonly rootfs: string;
  /** Full reference, e.g. localhost/tessera-pause:v1. */
  readonly reference: string;
  readonly config: ImageConfig;
  /** Where the archive is written (atomically: a half-written archive never appears under this name). */
  readonly out: string;
}

/** OCI architecture name of this machine. */
export function ociArchitecture(nodeArch: string = process.arch): string {
  return nodeArch === "x64" ? "amd64" : nodeArch;
}

/** The image config JSON (pure): what containerd reads for the entrypoint, user and the layer's digest. */
export function imageConfigJson(config: ImageConfig, layerDiffId: string, architecture: string): string {
  return JSON.stringify({
    architecture,
    os: "linux",
    config: {
      ...(config.entrypoint !== undefined ? { Entrypoint: config.entrypoint } : {}),
      ...(config.cmd !== undefined ? { Cmd: config.cmd } : {}),
      Env: config.env ?? ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
      ...(config.user !== undefined ? { User: config.user } : {}),
      ...(config.workingDir !== undefined ? { WorkingDir: config.workingDir } : {}),
    },
    rootfs: { type: "layers", diff_ids: [layerDiffId] },
    // One history entry per layer: builders (buildah) refuse a base whose history and layers disagree. A fixed
    // date keeps the config, and so the image ID, the same for the same files.
    created: "1970-01-01T00:00:00Z",
    history: [{ created: "1970-01-01T00:00:00Z", created_by: "tessera node tier: root filesystem packed as one layer" }],
  });
}

function sha256OfFile(path: string): Promise<string> {
  return new Promise((resolveHash, reject) => {
    const hash = createHash("sha256");
    createReadStream(path)
      .on("data", (chunk) => hash.update(chunk))
      .on("end", () => {
        resolveHash(hash.digest("hex"));
      })
      .on("error", reject);
  });
}

export async function writeImageArchive(p: ImageArchiveParams): Promise<void> {
  await mkdir(dirname(p.out), { recursive: true });
  const work = await mkdtemp(join(dirname(p.out), ".image-"));
  try {
    const layerTar = join(work, "layer.tar");
    // Owned by root inside the image whatever owns the files here; the image's USER decides who runs.
    await run("tar", ["-C", p.rootfs, "--numeric-owner", "--owner=0", "--group=0", "-cf", layerTar, "."], {
      timeoutMs: 300_000,
    });
    const layerHex = await sha256OfFile(layerTar);
    await mkdir(join(work, "archive", layerHex), { recursive: true });
    await rename(layerTar, join(work, "archive", layerHex, "layer.tar"));
    const config = imageConfigJson(p.config, `sha256:${layerHex}`, ociArchitecture());
    const configHex = createHash("sha256").update(config).digest("hex");
    await writeFile(join(work, "archive", `${configHex}.json`), config);
    await writeFile(
      join(work, "archive", "manifest.json"),
      JSON.stringify([{ Config: `${configHex}.json`, RepoTags: [p.reference], Layers: [`${layerHex}/layer.tar`] }]),
    );
    const archive = join(work, "image.tar");
    await run("tar", ["-C", join(work, "archive"), "-cf", archive, "."], { timeoutMs: 300_000 });
    await rename(archive, p.out);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
