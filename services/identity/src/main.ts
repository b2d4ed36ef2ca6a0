import { runServiceMain } from "@cloudforet/runtime";
import { identityModule } from "./service";

await runServiceMain(identityModule);
