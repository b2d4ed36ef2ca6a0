import { fileURLToPath } from "node:url";
import { CloudServiceService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_pb";
import { CloudServiceTypeService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_type_pb";
import { ChangeHistoryService } from "@cloudforet/proto/cloudforet/cloud_service/v1/change_history_pb";
import { changeHistoryHandlers } from "./change-history/handlers";
import { ChangeHistoryRepository } from "./change-history/repository";
import { HistoryRetentionSweeper } from "./change-history/retention-sweeper";
import type { ServiceModule } from "@cloudforet/runtime";
import { cloudServiceTypeHandlers } from "./cloud-service-types/handlers";
import { CloudServiceTypeRepository } from "./cloud-service-types/repository";
import { CollectionRepository } from "./cloud-services/collection-repository";
import { followCompletedTasks } from "./cloud-services/collection-sweep";
import { cloudServiceHandlers } from "./cloud-services/handlers";
import { CloudServiceRepository } from "./cloud-services/repository";
import { ResourceWriter } from "./cloud-services/resource-writer";
import { readCloudServiceConfig } from "./config";
import { outbox } from "./db/schema";
import { identityProjectDirectory } from "./projects/project-directory";
import { PushCollectorRules } from "./collector-rules/push-rules";
import { declaredSearchKeys } from "./search-keys/declared-keys";
import { SearchKeyIndexer } from "./search-keys/search-key-indexer";

/** Internal options of the module (not configuration: the history-overhead benchmark's baseline). */
export interface CloudServiceModuleOptions {
  /** Record change history (default true). */
  history?: boolean;
}

/**
 * The cloud-service service (SPEC §6): resource types and the resources themselves, their query
 * and statistics, their change history, and the end-of-collection sweep that follows inventory's
 * finished tasks.
 */
export const cloudServiceModule: ServiceModule = cloudServiceModuleWith({});

export function cloudServiceModuleWith(options: CloudServiceModuleOptions): ServiceModule {
  const recordHistory = options.history ?? true;
  return {
    name: "cloud-service",
    domain: "cloudforet.cloud_service.v1",
    defaultPort: 50053,
    schema: "cloud_service",
    migrationsFolder: fileURLToPath(new URL("../drizzle", import.meta.url)),
    outbox,
    async create({ db, bus, logger, kickOutbox, env }) {
      const types = new CloudServiceTypeRepository(db, kickOutbox);
      await types.ensureBuiltins();
      const config = readCloudServiceConfig(env);
      const history = new ChangeHistoryRepository(db);
      const resources = new CloudServiceRepository(db, recordHistory ? history : undefined);
      const collected = new CollectionRepository(db, { history: recordHistory });
      const retention = new HistoryRetentionSweeper(history, config.historyRetentionDays, config.historySweepIntervalMs, logger.child({ component: "history-retention" }));
      retention.start();
      const projects = identityProjectDirectory(config.identityUrl, logger);
      const pushRules = new PushCollectorRules(config.inventoryUrl, logger.child({ component: "push-collector-rules" }));
      const writer = new ResourceWriter(resources, collected, types, projects, logger, pushRules);
      const sweep = await followCompletedTasks({ db, bus, resources: collected, logger, kickOutbox });
      // Indexes of the search keys types declare, (re)built in the background: a build a restart
      // interrupted is finished here.
      const indexer = new SearchKeyIndexer(db, logger.child({ component: "search-key-indexes" }));
      void types.allMetadata().then(
        (all) => indexer.declare([...new Set(all.flatMap((metadata) => declaredSearchKeys(metadata)))]),
        (err: unknown) => logger.warn({ err }, "could not read declared search keys"),
      );
      return {
        services: [CloudServiceTypeService, CloudServiceService, ChangeHistoryService],
        routes(router) {
          router.service(CloudServiceTypeService, cloudServiceTypeHandlers(types, indexer));
          router.service(CloudServiceService, cloudServiceHandlers(resources, writer, logger));
          router.service(ChangeHistoryService, changeHistoryHandlers(history));
        },
        close: async () => {
          await retention.stop();
          await sweep.close();
          // A build cut short by the closing pool leaves an INVALID index, rebuilt at next start;
          // waiting a moment lets a small one finish instead.
          await Promise.race([indexer.idle(), new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
        },
      };
    },
  };
}
