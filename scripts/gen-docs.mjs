// Writes man/reconcile.1 and completion/reconcile.bash from the command definitions (run after
// the build: npm run docs). test/cli-docs.test.ts fails when the committed files differ.
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { bashCompletion, manPage } from '../dist/cli/docs.js';
import { VERSION } from '../dist/version.js';

const root = path.resolve(import.meta.dirname, '..');
for (const [file, text] of [
  ['man/reconcile.1', manPage(VERSION)],
  ['completion/reconcile.bash', bashCompletion()],
]) {
  mkdirSync(path.join(root, path.dirname(file)), { recursive: true });
  writeFileSync(path.join(root, file), text);
  console.log(`wrote ${file}`);
}
