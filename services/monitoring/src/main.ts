import { runServiceMain } from "@cloudforet/runtime";
import { monitoringModule } from "./service";

await runServiceMain(monitoringModule);
