// Loaded with node --import: any import of the mysql2 driver fails loudly (tests that a plan
// which uses no MySQL database never loads it).
import { register } from 'node:module';

register(
  'data:text/javascript,' +
    encodeURIComponent(
      "export async function resolve(specifier, context, next) { if (specifier === 'mysql2' || specifier.startsWith('mysql2/')) throw new Error('the mysql2 driver was loaded'); return next(specifier, context); }",
    ),
);
