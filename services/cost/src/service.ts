import { fileURLToPath } from "node:url";
import type { ServiceModule } from "@cloudforet/runtime";
import { DataSourceService } from "@cloudforet/proto/cloudforet/cost/v1/data_source_pb";
import { CostService } from "@cloudforet/proto/cloudforet/cost/v1/cost_pb";
import { costHandlers } from "./costs/handlers";
import { CostRepository } from "./costs/repository";
import { dataSourceHandlers } from "./data-sources/handlers";
import { DataSourceRepository } from "./data-sources/repository";
import { outbox } from "./db/schema";

/**
 * The cost service (SPEC §7): data sources and cost rows stored as exact decimals, batch ingestion
 * with partial success and idempotency keys, List through the query language, and Analyze.
 */
export const costModule: ServiceModule = {
  name: "cost",
  domain: "cloudforet.cost.v1",
  defaultPort: 50054,
  schema: "cost",
  migrationsFolder: fileURLToPath(new URL("../drizzle", import.meta.url)),
  outbox,
  create({ db, kickOutbox }) {
    const dataSources = new DataSourceRepository(db, kickOutbox);
    const costs = new CostRepository(db, kickOutbox);
    return {
      services: [DataSourceService, CostService],
      routes(router) {
        router.service(DataSourceService, dataSourceHandlers(dataSources));
        router.service(CostService, costHandlers(costs, dataSources));
      },
    };
  },
};
