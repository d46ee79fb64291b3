#!/usr/bin/env node
// The `arabicstt` command (package.json `bin`): runs main.ts through tsx, as every entry point of the
// repository runs, so the CLI needs no build step.
import { register } from "tsx/esm/api";

register();
await import("./main.ts");
