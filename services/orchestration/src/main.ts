import { runServiceMain } from "@cloudforet/runtime";
import { orchestrationModule } from "./service";

await runServiceMain(orchestrationModule);
