import { fileURLToPath } from "node:url";
import type { ServiceModule } from "@cloudforet/runtime";
import { DataSourceService } from "@cloudforet/proto/cloudforet/cost/v1/data_source_pb";
import { CostService } from "@cloudforet/proto/cloudforet/cost/v1/cost_pb";
import { BudgetService } from "@cloudforet/proto/cloudforet/cost/v1/budget_pb";
import { consumeCostBatches } from "./budgets/budget-evaluation";
import { budgetHandlers } from "./budgets/handlers";
import { BudgetRepository } from "./budgets/repository";
import { readCostConfig } from "./config";
import { costHandlers } from "./costs/handlers";
import { CostRepository } from "./costs/repository";
import { dataSourceHandlers } from "./data-sources/handlers";
import { DataSourceRepository } from "./data-sources/repository";
import { outbox } from "./db/schema";

/**
 * The cost service (SPEC §7): data sources and cost rows stored as exact decimals, batch ingestion
 * with partial success and idempotency keys, List through the query language, and Analyze; budgets
 * evaluated as cost batches arrive, each threshold notified once per period.
 */
export const costModule: ServiceModule = {
  name: "cost",
  domain: "cloudforet.cost.v1",
  defaultPort: 50054,
  schema: "cost",
  migrationsFolder: fileURLToPath(new URL("../drizzle", import.meta.url)),
  outbox,
  async create({ db, kickOutbox, env, bus, logger }) {
    const config = readCostConfig(env);
    const dataSources = new DataSourceRepository(db, kickOutbox);
    const costs = new CostRepository(db, kickOutbox, config.idempotencyWindowHours);
    const budgets = new BudgetRepository(db, kickOutbox);
    // Budgets are evaluated as cost batches commit (their cost_batch.created events).
    const budgetEvaluation = await consumeCostBatches({ bus, budgets, logger });
    return {
      services: [DataSourceService, CostService, BudgetService],
      routes(router) {
        router.service(DataSourceService, dataSourceHandlers(dataSources));
        router.service(CostService, costHandlers(costs, dataSources));
        router.service(BudgetService, budgetHandlers(budgets, dataSources));
      },
      close: () => budgetEvaluation.close(),
    };
  },
};
