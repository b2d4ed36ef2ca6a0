// The resources the cloud-service benches load: seed 000's kind (Nutanix VMs and disks), spread over
// providers, types, states, accounts and clusters so that filters and groups select real fractions.

/** Resource `i` as a CloudServiceService upsert item (the generated message's init shape). */
export function benchResource(i: number) {
  return {
    cloudServiceType: i % 10 < 7 ? "compute.Instance" : "compute.Disk",
    cloudServiceGroup: "Nutanix",
    cloudServiceName: `server-${String(i).padStart(7, "0")}`,
    provider: i % 5 === 4 ? "aws" : "nutanix",
    account: `sa-prod-cluster-${String(i % 10).padStart(2, "0")}`,
    data: { state: i % 5 === 1 ? "OFF" : "ON", cpu_cores: 2 ** (i % 5), memory_gb: 8 * (1 + (i % 8)), disk_total_gb: 100 * (1 + (i % 10)), cluster: `cluster-${i % 5}` },
    tags: { environment: i % 2 === 0 ? "production" : "development", owner: "devops-team" },
    reference: { resourceId: `vm-${i}`, externalLink: `https://prism.local/vm/${i}` },
  };
}

/** The same resource as the row cloud-service stores for it (columns of cloud_service.cloud_services). */
export function benchResourceRow(i: number, id: string) {
  const r = benchResource(i);
  return {
    cloud_service_id: id,
    domain_id: "domain-default",
    name: r.cloudServiceName,
    cloud_service_type: r.cloudServiceType,
    cloud_service_group: r.cloudServiceGroup,
    provider: r.provider,
    account: r.account,
    state: r.data.state,
    data: r.data,
    tags: r.tags,
    reference: { resource_id: r.reference.resourceId, external_link: r.reference.externalLink },
    resource_id: r.reference.resourceId,
  };
}

/**
 * One INSERT … SELECT that adds rows `from`..`to`-1 of the same shape as benchResourceRow inside
 * Postgres, for sizes where loading through the RPC would take minutes and measure ingest rather
 * than the query (resource-ingest measures ingest).
 */
export function generatedResourcesSql(table: string, from: number, to: number): string {
  return `
    insert into ${table} (cloud_service_id, domain_id, name, cloud_service_type, cloud_service_group, provider, account, state, data, tags, reference, resource_id)
    select 'cloud-svc-gen-' || i, 'domain-default', 'server-' || lpad(i::text, 7, '0'),
           case when i % 10 < 7 then 'compute.Instance' else 'compute.Disk' end, 'Nutanix',
           case when i % 5 = 4 then 'aws' else 'nutanix' end, 'sa-prod-cluster-' || lpad((i % 10)::text, 2, '0'),
           case when i % 5 = 1 then 'OFF' else 'ON' end,
           jsonb_build_object('state', case when i % 5 = 1 then 'OFF' else 'ON' end, 'cpu_cores', power(2, i % 5)::int, 'memory_gb', 8 * (1 + i % 8),
                              'disk_total_gb', 100 * (1 + i % 10), 'cluster', 'cluster-' || (i % 5)),
           jsonb_build_object('environment', case when i % 2 = 0 then 'production' else 'development' end, 'owner', 'devops-team'),
           jsonb_build_object('resource_id', 'vm-' || i, 'external_link', 'https://prism.local/vm/' || i), 'vm-' || i
    from generate_series(${Math.floor(from)}, ${Math.floor(to) - 1}) as i`;
}
