import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { DestinationRule, VirtualService } from "@kubernetes-models/istio/networking.istio.io/v1beta1";
import { PeerAuthentication } from "@kubernetes-models/istio/security.istio.io/v1beta1";
import { Deployment } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ConfigMap, Secret, Service } from "kubernetes-models/v1";
import { describe, expect, it } from "vitest";
import { renderHelmChart } from "./render-helm";
import { parseImage, renderKustomization, type Manifest } from "./render-kustomization";

const deployDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../deploy");
const services = { identity: 50051, inventory: 50052, "cloud-service": 50053, cost: 50054, monitoring: 50055, notification: 50056, orchestration: 50057 };

/** The Kubernetes (1.27) and Istio JSON schemas, through kubernetes-models' validators. */
const models: Record<string, new (data: never) => { validate(): void }> = {
  "apps/v1/Deployment": Deployment,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
  "v1/Service": Service,
  "v1/ConfigMap": ConfigMap,
  "v1/Secret": Secret,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
  "security.istio.io/v1beta1/PeerAuthentication": PeerAuthentication,
  "networking.istio.io/v1beta1/DestinationRule": DestinationRule,
  "networking.istio.io/v1beta1/VirtualService": VirtualService,
};

function validateAll(manifests: Manifest[]): void {
  for (const manifest of manifests) {
    const Model = models[`${manifest.apiVersion}/${manifest.kind}`];
    expect(Model, `no schema for ${manifest.apiVersion} ${manifest.kind}`).toBeDefined();
    expect(() => new Model(manifest as never).validate(), `${manifest.kind}/${manifest.metadata.name}`).not.toThrow();
  }
}

const find = (manifests: Manifest[], kind: string, name: string) => manifests.find((m) => m.kind === kind && m.metadata.name === name);
type Container = { image: string; ports: { name: string; containerPort: number }[]; readinessProbe: { grpc: { port: number } }; livenessProbe: { grpc: { port: number; service: string } }; resources: { requests: Record<string, string> } };

type PodTemplate = { metadata: { annotations?: Record<string, string>; labels: Record<string, string> }; spec: { containers: Container[] } };
type DeploymentManifest = Manifest & { spec: { replicas?: number; template: PodTemplate } };
type PolicyManifest = Manifest & { spec: { ingress: { from: { podSelector?: unknown; namespaceSelector?: { matchLabels: Record<string, string> } }[]; ports: { port: number }[] }[] } };
type HpaManifest = Manifest & { spec: { scaleTargetRef: { kind: string; name: string }; minReplicas: number; maxReplicas: number; metrics: { resource: { name: string } }[] } };

/**
 * What deploy/base and the Helm chart must both render, per service: the Deployment (native gRPC
 * probes, Prometheus scrape annotations, no replicas field: the HPA owns it), a grpc Service, a PDB, a
 * NetworkPolicy admitting the platform's pods and the `monitoring` namespace, and an HPA on CPU.
 */
function checkPlatform(manifests: Manifest[], image: string): void {
  validateAll(manifests);
  for (const [name, port] of Object.entries(services)) {
    const deployment = find(manifests, "Deployment", name) as DeploymentManifest;
    const container = deployment.spec.template.spec.containers[0];
    expect(container.ports[0]).toEqual({ name: "grpc", containerPort: port });
    expect(container.readinessProbe.grpc.port).toBe(port);
    expect(container.livenessProbe.grpc).toEqual({ port, service: "liveness" });
    expect(container.resources.requests).toBeDefined();
    expect(container.image, name).toBe(image);
    expect(deployment.spec.template.metadata.annotations).toMatchObject({ "prometheus.io/scrape": "true", "prometheus.io/port": String(port), "prometheus.io/path": "/metrics" });
    expect(deployment.spec.replicas, `${name}: replicas belong to the HPA`).toBeUndefined();
    const service = find(manifests, "Service", name) as Manifest & { spec: { ports: { name: string; appProtocol: string; port: number }[] } };
    expect(service.spec.ports[0]).toMatchObject({ name: "grpc", appProtocol: "grpc", port });
    expect(find(manifests, "PodDisruptionBudget", name)).toBeDefined();
    const policy = find(manifests, "NetworkPolicy", name) as PolicyManifest;
    expect(policy).toBeDefined();
    const scrape = policy.spec.ingress.find((rule) => rule.from.some((peer) => peer.namespaceSelector?.matchLabels["kubernetes.io/metadata.name"] === "monitoring"));
    expect(scrape?.ports.map((p) => p.port), `${name}: monitoring may scrape the metrics port`).toContain(port);
    // the monitoring rule admits that namespace only, not every pod of the cluster
    expect(scrape?.from.every((peer) => peer.namespaceSelector && !peer.podSelector)).toBe(true);
    const hpa = find(manifests, "HorizontalPodAutoscaler", name) as HpaManifest;
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: "Deployment", name });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa.spec.maxReplicas).toBeGreaterThanOrEqual(hpa.spec.minReplicas);
    expect(hpa.spec.metrics[0].resource.name).toBe("cpu");
  }
  const orchestration = find(manifests, "NetworkPolicy", "orchestration") as PolicyManifest;
  expect(orchestration.spec.ingress.at(-1)?.ports.map((p) => p.port)).toContain(8080); // the engine's own /metrics
  expect(find(manifests, "ConfigMap", "cloudforet-config")).toBeDefined();
}

describe("deploy/ renders and validates against the Kubernetes and Istio schemas", () => {
  const base = renderKustomization(path.join(deployDir, "base"));

  it("base: every service has a Deployment with native gRPC probes and scrape annotations, a grpc Service, a PDB, a NetworkPolicy and an HPA", () => {
    checkPlatform(base, "cloudforet-ts:0.1.0");
    expect(find(base, "Secret", "cloudforet-secrets")).toBeDefined();
  });

  it("base: the image tag comes from the kustomization's images: entry", () => {
    const kustomization = readFileSync(path.join(deployDir, "base/kustomization.yaml"), "utf8");
    expect(kustomization).toMatch(/^images:\n- name: cloudforet-ts\n {2}newTag: "0\.1\.0"$/m);
    // no pod of the platform runs an unpinned image once rendered
    for (const deployment of base.filter((m) => m.kind === "Deployment") as DeploymentManifest[]) {
      for (const container of deployment.spec.template.spec.containers) expect(parseImage(container.image).tag, deployment.metadata.name).not.toBe("latest");
    }
    expect(parseImage("registry.example:5000/cf/cloudforet-ts:1.2@sha256:ab")).toEqual({ name: "registry.example:5000/cf/cloudforet-ts", tag: "1.2", digest: "sha256:ab" });
    expect(parseImage("registry.example:5000/cloudforet-ts")).toEqual({ name: "registry.example:5000/cloudforet-ts", tag: undefined, digest: undefined });
  });

  it("helm: the chart renders the same platform from values.yaml, and values change it", () => {
    const chart = path.join(deployDir, "helm/cloudforet");
    const helm = renderHelmChart(chart);
    checkPlatform(helm, "cloudforet-ts:0.1.0");
    // object for object the chart's defaults equal deploy/base, but for helm's own labels and the Secret
    // (the chart expects an existing one)
    const helmLabels = ["app.kubernetes.io/instance", "app.kubernetes.io/managed-by", "helm.sh/chart"];
    const strip = (m: Manifest) =>
      JSON.parse(
        JSON.stringify(m, (key, value) => {
          if (key !== "labels") return value;
          const kept = Object.fromEntries(Object.entries(value as Record<string, string>).filter(([label]) => !helmLabels.includes(label)));
          return Object.keys(kept).length > 0 ? kept : undefined;
        }),
      );
    const kinds = (ms: Manifest[]) => ms.map((m) => `${m.kind}/${m.metadata.name}`).sort();
    // (the seven services' objects only: other components may join deploy/base without joining the chart)
    const ours = base.filter((m) => m.kind !== "Secret" && (m.metadata.name in services || m.metadata.name === "cloudforet-config"));
    expect(kinds(helm)).toEqual(kinds(ours));
    for (const manifest of helm) expect(strip(manifest), `${manifest.kind}/${manifest.metadata.name}`).toEqual(strip(find(base, manifest.kind, manifest.metadata.name)!));
    expect(helm[0].metadata.labels).toMatchObject({ "app.kubernetes.io/managed-by": "Helm", "app.kubernetes.io/instance": "cloudforet" });

    const custom = renderHelmChart(chart, {
      image: { repository: "registry.example/cf/cloudforet-ts", tag: "1.2.3" },
      services: { cost: { port: 6054, maxReplicas: 9 } },
      metrics: { namespace: "observability" },
    });
    validateAll(custom);
    const cost = find(custom, "Deployment", "cost") as DeploymentManifest;
    expect(cost.spec.template.spec.containers[0].image).toBe("registry.example/cf/cloudforet-ts:1.2.3");
    expect(cost.spec.template.spec.containers[0].ports[0].containerPort).toBe(6054);
    expect(cost.spec.template.metadata.annotations?.["prometheus.io/port"]).toBe("6054");
    expect((find(custom, "ConfigMap", "cloudforet-config") as Manifest & { data: Record<string, string> }).data.COST_URL).toBe("http://cost:6054");
    expect((find(custom, "HorizontalPodAutoscaler", "cost") as HpaManifest).spec.maxReplicas).toBe(9);
    const policy = find(custom, "NetworkPolicy", "identity") as PolicyManifest;
    expect(policy.spec.ingress[1].from[0].namespaceSelector?.matchLabels["kubernetes.io/metadata.name"]).toBe("observability");
    // a value the chart needs but does not have is an error, not an empty string
    expect(() => renderHelmChart(chart, { image: { tag: null } })).toThrow(/image\.tag has no value/);
  });

  it("istio: sidecars, STRICT mTLS, outlier detection and taxonomy-safe retries for every service", () => {
    const istio = renderKustomization(path.join(deployDir, "overlays/istio"));
    validateAll(istio);
    expect((find(istio, "PeerAuthentication", "default") as Manifest & { spec: { mtls: { mode: string } } }).spec.mtls.mode).toBe("STRICT");
    // Istio's metrics merging moves the scrape to the sidecar's :15020, which the monitoring namespace may reach
    const merged = find(istio, "NetworkPolicy", "monitoring-scrape-istio") as PolicyManifest;
    expect(merged.spec.ingress[0].ports.map((p) => p.port)).toEqual([15020]);
    expect(merged.spec.ingress[0].from[0].namespaceSelector?.matchLabels["kubernetes.io/metadata.name"]).toBe("monitoring");
    for (const name of Object.keys(services)) {
      const rule = find(istio, "DestinationRule", name) as Manifest & { spec: { trafficPolicy: { outlierDetection: unknown } } };
      expect(rule.spec.trafficPolicy.outlierDetection).toBeDefined();
      const routes = find(istio, "VirtualService", name) as Manifest & { spec: { http: { retries: { retryOn: string } }[] } };
      // never retried by the mesh: writes that may have run (DEADLINE_EXCEEDED, INTERNAL) and RESOURCE_EXHAUSTED
      expect(routes.spec.http[0].retries.retryOn.split(",")).not.toEqual(expect.arrayContaining(["deadline-exceeded"]));
      expect(routes.spec.http[0].retries.retryOn).not.toMatch(/internal|resource-exhausted/);
      const deployment = find(istio, "Deployment", name) as Manifest & { spec: { template: { metadata: { annotations: Record<string, string> } } } };
      expect(deployment.spec.template.metadata.annotations["sidecar.istio.io/inject"]).toBe("true");
    }
  });

  it("linkerd: every pod template asks for the proxy", () => {
    const linkerd = renderKustomization(path.join(deployDir, "overlays/linkerd"));
    validateAll(linkerd);
    for (const name of Object.keys(services)) {
      const deployment = find(linkerd, "Deployment", name) as Manifest & { spec: { template: { metadata: { annotations: Record<string, string> } } } };
      expect(deployment.spec.template.metadata.annotations["linkerd.io/inject"]).toBe("enabled");
    }
  });
});
