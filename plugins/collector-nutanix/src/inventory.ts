import type { CloudServiceResource } from "@cloudforet/plugin-sdk";
import { subnetToNetwork, vmToDisks, vmToInstance, type MappingContext } from "./mapping";
import type { PrismClient } from "./prism/prism-client";
import type { V3Cluster, V3Subnet, V3Vm } from "./prism/types";

/** Everything one collection read from Prism. */
export interface PrismInventory {
  clusters: V3Cluster[];
  subnets: V3Subnet[];
  vms: V3Vm[];
}

/** Reads clusters, subnets and VMs (disks come from the VM specs), reporting each phase's end. */
export async function readInventory(client: PrismClient, include: Set<string>, onPhase?: (phase: "clusters" | "subnets" | "vms") => void | Promise<void>): Promise<PrismInventory> {
  const clusters = await client.listClusters();
  await onPhase?.("clusters");
  const subnets = include.has("compute.Network") ? await client.listSubnets() : [];
  await onPhase?.("subnets");
  const vms = include.has("compute.Instance") || include.has("compute.Disk") ? await client.listVms() : [];
  await onPhase?.("vms");
  return { clusters, subnets, vms };
}

/** One resource to write, or why it could not be mapped. */
export type MappedResource = { ok: true; resource: CloudServiceResource } | { ok: false; message: string; resourceId: string };

/** The inventory as cloud services: networks first, then each VM followed by its disks. */
export function* mapInventory(inventory: PrismInventory, include: Set<string>, base: Omit<MappingContext, "clusters">): Generator<MappedResource> {
  const ctx: MappingContext = { ...base, clusters: new Map(inventory.clusters.map((c) => [c.metadata.uuid, c])) };
  if (include.has("compute.Network")) for (const subnet of inventory.subnets) yield mapOne(subnet.metadata?.uuid, () => [subnetToNetwork(subnet, ctx)]);
  for (const vm of inventory.vms) {
    if (include.has("compute.Instance")) yield* mapMany(vm.metadata?.uuid, () => [vmToInstance(vm, ctx)]);
    if (include.has("compute.Disk")) yield* mapMany(vm.metadata?.uuid, () => vmToDisks(vm, ctx));
  }
}


function* mapMany(resourceId: string | undefined, map: () => CloudServiceResource[]): Generator<MappedResource> {
  let resources: CloudServiceResource[];
  try {
    resources = map();
  } catch (err) {
    yield { ok: false, resourceId: resourceId ?? "", message: `${resourceId ?? "entity without uuid"}: cannot map Prism entity: ${err instanceof Error ? err.message : String(err)}` };
    return;
  }
  for (const resource of resources) yield { ok: true, resource };
}

function mapOne(resourceId: string | undefined, map: () => CloudServiceResource[]): MappedResource {
  const [first] = [...mapMany(resourceId, map)];
  return first;
}

/** How many resources the inventory maps to, for progress. */
export function resourceCount(inventory: PrismInventory, include: Set<string>): number {
  let n = include.has("compute.Network") ? inventory.subnets.length : 0;
  for (const vm of inventory.vms) {
    if (include.has("compute.Instance")) n += 1;
    if (include.has("compute.Disk")) n += (vm.spec.resources.disk_list ?? []).filter((d) => (d.device_properties?.device_type ?? "DISK") === "DISK" && d.uuid).length;
  }
  return n;
}
