// Imported by the component tests (the root vitest run has no setup file for them): findBy… and
// waitFor wait up to 10 s, not 1 s, so a heavily loaded CI runner does not fail them.
import { configure } from "@testing-library/react";

configure({ asyncUtilTimeout: 10_000 });
