#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so `npx dplab` works without a build.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
