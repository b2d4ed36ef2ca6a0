export { DescriptorIndex, registerReflection } from "./reflection";
