import { fileURLToPath } from "node:url";
import { CloudServiceService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_pb";
import { CloudServiceTypeService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_type_pb";
import type { ServiceModule } from "@cloudforet/runtime";
import { cloudServiceTypeHandlers } from "./cloud-service-types/handlers";
import { CloudServiceTypeRepository } from "./cloud-service-types/repository";
import { followCompletedTasks } from "./cloud-services/collection-sweep";
import { cloudServiceHandlers } from "./cloud-services/handlers";
import { CloudServiceRepository } from "./cloud-services/repository";
import { ResourceWriter } from "./cloud-services/resource-writer";
import { outbox } from "./db/schema";
import { identityProjectDirectory } from "./projects/project-directory";

/**
 * The cloud-service service (SPEC §6): resource types and the resources themselves, their query
 * and statistics, and the end-of-collection sweep that follows inventory's finished tasks.
 */
export const cloudServiceModule: ServiceModule = {
  name: "cloud-service",
  domain: "cloudforet.cloud_service.v1",
  defaultPort: 50053,
  schema: "cloud_service",
  migrationsFolder: fileURLToPath(new URL("../drizzle", import.meta.url)),
  outbox,
  async create({ db, bus, logger, kickOutbox, env }) {
    const types = new CloudServiceTypeRepository(db, kickOutbox);
    await types.ensureBuiltins();
    const resources = new CloudServiceRepository(db);
    const projects = identityProjectDirectory(env.IDENTITY_URL ?? "http://127.0.0.1:50051", logger);
    const writer = new ResourceWriter(resources, types, projects, logger);
    const sweep = await followCompletedTasks({ db, bus, resources, logger, kickOutbox });
    return {
      services: [CloudServiceTypeService, CloudServiceService],
      routes(router) {
        router.service(CloudServiceTypeService, cloudServiceTypeHandlers(types));
        router.service(CloudServiceService, cloudServiceHandlers(resources, writer, logger));
      },
      close: () => sweep.close(),
    };
  },
};
