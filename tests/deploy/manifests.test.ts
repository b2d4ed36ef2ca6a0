import path from "node:path";
import { fileURLToPath } from "node:url";
import { DestinationRule, VirtualService } from "@kubernetes-models/istio/networking.istio.io/v1beta1";
import { PeerAuthentication } from "@kubernetes-models/istio/security.istio.io/v1beta1";
import { Deployment } from "kubernetes-models/apps/v1";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ConfigMap, Secret, Service } from "kubernetes-models/v1";
import { describe, expect, it } from "vitest";
import { renderKustomization, type Manifest } from "./render-kustomization";

const deployDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../deploy");
const services = { identity: 50051, inventory: 50052, "cloud-service": 50053, cost: 50054, monitoring: 50055, notification: 50056, orchestration: 50057 };

/** The Kubernetes (1.27) and Istio JSON schemas, through kubernetes-models' validators. */
const models: Record<string, new (data: never) => { validate(): void }> = {
  "apps/v1/Deployment": Deployment,
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
type Container = { ports: { name: string; containerPort: number }[]; readinessProbe: { grpc: { port: number } }; livenessProbe: { grpc: { port: number; service: string } }; resources: { requests: Record<string, string> } };

describe("deploy/ renders and validates against the Kubernetes and Istio schemas", () => {
  const base = renderKustomization(path.join(deployDir, "base"));

  it("base: every service has a Deployment with native gRPC probes, a grpc Service, a PDB and a NetworkPolicy", () => {
    validateAll(base);
    for (const [name, port] of Object.entries(services)) {
      const deployment = find(base, "Deployment", name) as Manifest & { spec: { template: { spec: { containers: Container[] } } } };
      const container = deployment.spec.template.spec.containers[0];
      expect(container.ports[0]).toEqual({ name: "grpc", containerPort: port });
      expect(container.readinessProbe.grpc.port).toBe(port);
      expect(container.livenessProbe.grpc).toEqual({ port, service: "liveness" });
      expect(container.resources.requests).toBeDefined();
      const service = find(base, "Service", name) as Manifest & { spec: { ports: { name: string; appProtocol: string; port: number }[] } };
      expect(service.spec.ports[0]).toMatchObject({ name: "grpc", appProtocol: "grpc", port });
      expect(find(base, "PodDisruptionBudget", name)).toBeDefined();
      expect(find(base, "NetworkPolicy", name)).toBeDefined();
    }
    expect(find(base, "ConfigMap", "cloudforet-config")).toBeDefined();
    expect(find(base, "Secret", "cloudforet-secrets")).toBeDefined();
  });

  it("istio: sidecars, STRICT mTLS, outlier detection and taxonomy-safe retries for every service", () => {
    const istio = renderKustomization(path.join(deployDir, "overlays/istio"));
    validateAll(istio);
    expect((find(istio, "PeerAuthentication", "default") as Manifest & { spec: { mtls: { mode: string } } }).spec.mtls.mode).toBe("STRICT");
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
