import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { parseAllDocuments } from "yaml";

export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  [field: string]: unknown;
};

interface Kustomization {
  resources?: string[];
  commonAnnotations?: Record<string, string>;
  namespace?: string;
  images?: ImageOverride[];
}

/** kustomize's `images:` entry: pods running `name` (any tag) get newName, newTag or digest. */
export interface ImageOverride {
  name: string;
  newName?: string;
  newTag?: string;
  digest?: string;
}

const supported = new Set(["apiVersion", "kind", "resources", "commonAnnotations", "namespace", "images"]);

/**
 * Renders a kustomization the way `kubectl kustomize` does for the features deploy/ uses —
 * resources (files and directories), commonAnnotations (on objects and pod templates), namespace
 * and images (containers' and init containers' image name, tag or digest) — and refuses any other feature, so the two cannot silently disagree.
 */
export function renderKustomization(dir: string): Manifest[] {
  const file = path.join(dir, "kustomization.yaml");
  const kustomization = parseAllDocuments(readFileSync(file, "utf8"))[0].toJS() as Kustomization;
  const unknown = Object.keys(kustomization).filter((key) => !supported.has(key));
  if (unknown.length > 0) throw new Error(`${file} uses ${unknown.join(", ")}, which this renderer does not implement`);
  const manifests = (kustomization.resources ?? []).flatMap((resource) => {
    const target = path.join(dir, resource);
    return statSync(target).isDirectory() ? renderKustomization(target) : readManifests(target);
  });
  for (const manifest of manifests) {
    if (kustomization.namespace) (manifest.metadata as Record<string, unknown>).namespace = kustomization.namespace;
    if (kustomization.commonAnnotations) annotate(manifest, kustomization.commonAnnotations);
    for (const image of kustomization.images ?? []) setImage(manifest, image);
  }
  return manifests;
}

function readManifests(file: string): Manifest[] {
  return parseAllDocuments(readFileSync(file, "utf8"))
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((doc): doc is Manifest => doc !== null);
}

function annotate(manifest: Manifest, annotations: Record<string, string>): void {
  manifest.metadata.annotations = { ...manifest.metadata.annotations, ...annotations };
  const template = (manifest.spec as { template?: { metadata?: { annotations?: Record<string, string> } } } | undefined)?.template;
  if (template) {
    template.metadata ??= {};
    template.metadata.annotations = { ...template.metadata.annotations, ...annotations };
  }
}

/** Splits `name[:tag][@digest]`; a `:` before the last `/` belongs to a registry's port, not a tag. */
export function parseImage(ref: string): { name: string; tag?: string; digest?: string } {
  const [withTag, digest] = ref.split("@") as [string, string | undefined];
  const colon = withTag.lastIndexOf(":");
  const hasTag = colon > withTag.lastIndexOf("/");
  return { name: hasTag ? withTag.slice(0, colon) : withTag, tag: hasTag ? withTag.slice(colon + 1) : undefined, digest };
}

function setImage(manifest: Manifest, override: ImageOverride): void {
  const pod = (manifest.spec as { template?: { spec?: { containers?: { image?: string }[]; initContainers?: { image?: string }[] } } } | undefined)?.template?.spec;
  for (const container of [...(pod?.containers ?? []), ...(pod?.initContainers ?? [])]) {
    if (!container.image) continue;
    const current = parseImage(container.image);
    if (current.name !== override.name) continue;
    const name = override.newName ?? current.name;
    // kustomize: a digest replaces the tag; a new tag drops an old digest.
    if (override.digest) container.image = `${name}@${override.digest}`;
    else if (override.newTag) container.image = `${name}:${override.newTag}`;
    else container.image = `${name}${current.tag ? `:${current.tag}` : ""}${current.digest ? `@${current.digest}` : ""}`;
  }
}
