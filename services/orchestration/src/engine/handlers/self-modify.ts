import { PlatformError } from "@cloudforet/errors";
import { validateInjectedBlocks } from "../../definitions/validate-definition";
import { permanent, type StepHandler } from "./handler";

/** Adds `blocks` to the instance right after this step (validated like a definition; ids must be new). */
export const selfModify: StepHandler = {
  effects: "pure",
  async run(step) {
    try {
      const blocks = validateInjectedBlocks(step.params.blocks, step.knownBlockIds());
      return { kind: "completed", output: { injected: blocks.length }, inject: blocks };
    } catch (err) {
      if (err instanceof PlatformError) return permanent(`self_modify: ${err.message}`);
      throw err;
    }
  },
};
