import { runServiceMain } from "@cloudforet/runtime";
import { inventoryModule } from "./service";

await runServiceMain(inventoryModule);
