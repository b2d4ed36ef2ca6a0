/** Which service serves each proto package: the gateway and Vite's dev proxy route by it. */
export const serviceRoutes: Readonly<Record<string, string>> = {
  "cloudforet.identity.v1": "identity",
  "cloudforet.inventory.v1": "inventory",
  "cloudforet.cloud_service.v1": "cloud-service",
  "cloudforet.cost.v1": "cost",
  "cloudforet.monitoring.v1": "monitoring",
  "cloudforet.notification.v1": "notification",
  "cloudforet.orchestration.v1": "orchestration",
};

export const defaultPorts: Readonly<Record<string, number>> = {
  identity: 50051,
  inventory: 50052,
  "cloud-service": 50053,
  cost: 50054,
  monitoring: 50055,
  notification: 50056,
  orchestration: 50057,
};

/** `<SERVICE>_URL` when set, else http://127.0.0.1:<default port>, for every service. */
export function defaultServiceUrls(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(defaultPorts).map(([name, port]) => [name, env[`${name.toUpperCase().replace(/-/g, "_")}_URL`] ?? `http://127.0.0.1:${port}`]),
  );
}

/**
 * The service a request path goes to: `/cloudforet.cloud_service.v1.CloudServiceService/List` →
 * "cloud-service"; undefined for anything else (the console's own files).
 */
export function serviceForPath(pathname: string): string | undefined {
  const match = /^\/([a-z0-9_]+(?:\.[a-z0-9_]+)*)\.[A-Z][A-Za-z0-9]*\/[A-Z][A-Za-z0-9]*$/.exec(pathname);
  return match ? serviceRoutes[match[1]] : undefined;
}
