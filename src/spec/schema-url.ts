import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PACKAGE_ROOT } from '../package-root.js';

/** Where the spec's JSON Schema lives (the file editors point at); apart, so reading it loads no validator. */
export const SCHEMA_URL = pathToFileURL(path.join(PACKAGE_ROOT, 'schemas', 'host-spec.schema.json'));
