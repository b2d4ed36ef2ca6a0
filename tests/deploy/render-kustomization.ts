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
}

const supported = new Set(["apiVersion", "kind", "resources", "commonAnnotations", "namespace"]);

/**
 * Renders a kustomization the way `kubectl kustomize` does for the features deploy/ uses —
 * resources (files and directories), commonAnnotations (on objects and pod templates) and
 * namespace — and refuses any other feature, so the two cannot silently disagree.
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
