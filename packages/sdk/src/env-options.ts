import type { ClientOptions, ServiceName } from "./config";

/** The `CLOUDFORET_<SERVICE>_URL` variable of each service. */
const URL_ENV: Record<ServiceName, string> = {
  identity: "CLOUDFORET_IDENTITY_URL",
  inventory: "CLOUDFORET_INVENTORY_URL",
  cloudService: "CLOUDFORET_CLOUD_SERVICE_URL",
  cost: "CLOUDFORET_COST_URL",
  monitoring: "CLOUDFORET_MONITORING_URL",
  notification: "CLOUDFORET_NOTIFICATION_URL",
  orchestration: "CLOUDFORET_ORCHESTRATION_URL",
};

/** The options of `Client.fromEnv()`, read from the environment (explicit options win). */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): ClientOptions {
  const urls: Partial<Record<ServiceName, string>> = {};
  for (const name of Object.keys(URL_ENV) as ServiceName[]) {
    const value = env[URL_ENV[name]];
    if (value) urls[name] = value;
  }
  return {
    apiKey: env.CLOUDFORET_API_KEY || undefined,
    password: env.CLOUDFORET_PASSWORD || undefined,
    token: env.CLOUDFORET_TOKEN || undefined,
    domainId: env.CLOUDFORET_DOMAIN_ID || undefined,
    userId: env.CLOUDFORET_USER_ID || undefined,
    baseUrl: env.CLOUDFORET_API_URL || undefined,
    urls,
  };
}
