#!/usr/bin/env node
// The `vpce-guard` command (package.json "bin"): runs bin/cli.ts through tsx, so the command
// works straight after `npm ci`, with no build step and nothing generated to go stale.
import { tsImport } from 'tsx/esm/api';

await tsImport('./cli.ts', import.meta.url);
