import { runServiceMain } from "@cloudforet/runtime";
import { costModule } from "./service";

await runServiceMain(costModule);
