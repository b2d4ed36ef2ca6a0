/** The Prism Central v3 shapes this collector reads (a subset of the real API's fields). */

/** Body of `POST /api/nutanix/v3/<kind>s/list`. */
export interface V3ListRequest {
  kind: V3Kind;
  length: number;
  offset: number;
  filter?: string;
}

export type V3Kind = "vm" | "cluster" | "subnet";

export interface V3ListResponse<E> {
  api_version: string;
  metadata: { total_matches: number; length: number; offset: number; kind: V3Kind };
  entities: E[];
}

export interface V3Reference {
  kind: string;
  uuid: string;
  name?: string;
}

export interface V3Metadata {
  kind: V3Kind;
  uuid: string;
  spec_version?: number;
  creation_time?: string;
  last_update_time?: string;
  categories?: Record<string, string>;
  project_reference?: V3Reference;
  owner_reference?: V3Reference;
}

export interface V3Disk {
  uuid: string;
  disk_size_mib?: number;
  disk_size_bytes?: number;
  device_properties?: { device_type?: string; disk_address?: { adapter_type?: string; device_index?: number } };
  storage_config?: { storage_container_reference?: V3Reference };
}

export interface V3Nic {
  uuid?: string;
  mac_address?: string;
  nic_type?: string;
  subnet_reference?: V3Reference;
  ip_endpoint_list?: { ip: string; type?: string }[];
}

export interface V3VmResources {
  num_sockets?: number;
  num_vcpus_per_socket?: number;
  num_threads_per_core?: number;
  memory_size_mib?: number;
  power_state?: string;
  hypervisor_type?: string;
  machine_type?: string;
  vnuma_config?: { num_vnuma_nodes?: number };
  disk_list?: V3Disk[];
  nic_list?: V3Nic[];
}

export interface V3Vm {
  metadata: V3Metadata;
  spec: { name: string; description?: string; resources: V3VmResources; cluster_reference?: V3Reference };
  status: { name?: string; state?: string; resources?: V3VmResources; cluster_reference?: V3Reference };
}

export interface V3Cluster {
  metadata: V3Metadata;
  spec: { name: string; resources?: { config?: { software_map?: Record<string, { version?: string }> } } };
  status: {
    name?: string;
    state?: string;
    resources?: {
      nodes?: { hypervisor_server_list?: { ip?: string; type?: string; version?: string }[] };
      config?: { service_list?: string[]; build?: { version?: string } };
      network?: { external_ip?: string };
    };
  };
}

export interface V3Subnet {
  metadata: V3Metadata;
  spec: {
    name: string;
    cluster_reference?: V3Reference;
    resources: {
      subnet_type?: string;
      vlan_id?: number;
      vswitch_name?: string;
      ip_config?: { subnet_ip?: string; prefix_length?: number; default_gateway_ip?: string };
    };
  };
  status: { name?: string; state?: string; cluster_reference?: V3Reference };
}

/**
 * A VM's counters from the Prism v1 API (`GET /PrismGateway/services/rest/v1/vms`), which v3 lacks.
 * Values are strings of parts per million, as Prism sends them.
 */
export interface V1VmStats {
  uuid: string;
  vmName?: string;
  stats: Record<string, string>;
}

export interface V1ListResponse<E> {
  metadata: { grandTotalEntities: number; totalEntities: number; count: number; page: number };
  entities: E[];
}
