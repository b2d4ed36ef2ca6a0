import type { ServiceModule } from "@cloudforet/runtime";
import { identityModule } from "../services/identity/src/service";
import { inventoryModule } from "../services/inventory/src/service";
import { cloudServiceModule } from "../services/cloud-service/src/service";
import { costModule } from "../services/cost/src/service";
import { monitoringModule } from "../services/monitoring/src/service";
import { notificationModule } from "../services/notification/src/service";
import { orchestrationModule } from "../services/orchestration/src/service";

/** The seven services, in start order (identity first: the others will verify its tokens). */
export const platformModules: ServiceModule[] = [
  identityModule,
  inventoryModule,
  cloudServiceModule,
  costModule,
  monitoringModule,
  notificationModule,
  orchestrationModule,
];
