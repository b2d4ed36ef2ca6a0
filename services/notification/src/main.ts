import { runServiceMain } from "@cloudforet/runtime";
import { notificationModule } from "./service";

await runServiceMain(notificationModule);
