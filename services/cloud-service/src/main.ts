import { runServiceMain } from "@cloudforet/runtime";
import { cloudServiceModule } from "./service";

await runServiceMain(cloudServiceModule);
