// schemas/fragment.schema.json is derived from schemas/host-spec.schema.json, so the two cannot
// drift apart: a fragment (or a host file before the merge) is a partial host spec. Entries need
// only their identity (the merged spec is checked against the host schema), may say `replace:
// true`, hba rules may say `order: N`, and typed references stand where DESIGN §8.2 rule 6 allows.
// The build writes the file; a test checks that the committed one equals this derivation.

const HOST_NAME = '^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$';

export function fragmentSchema(hostSchema) {
  const s = structuredClone(hostSchema);
  s.$id = 'https://reconcile.dev/schemas/fragment.schema.json';
  s.title = 'reconcile spec fragment (v1)';
  s.description =
    'A partial host spec that host files (and fleet.yaml groups) include; derived from host-spec.schema.json by scripts/fragment-schema.mjs. Point your editor at this file: # yaml-language-server: $schema=<path>/schemas/fragment.schema.json';
  delete s.required;
  delete s.properties.host;
  s.properties.include = {
    description: 'Fragments merged before this file: repository-relative, or relative to this file when they start with ./ or ../; no globs; nested at most 8 deep.',
    type: 'array',
    // Globs and paths are judged when the include is resolved, with a message of their own.
    items: { type: 'string', pattern: '\\S' },
  };
  s.properties.exclude = {
    description: 'Addresses this file\'s includes bring that this host does not manage, such as units[snapd.service]; each must match something.',
    type: 'array',
    items: { type: 'string', pattern: '\\S' },
  };
  s.properties.defaults = {
    description: 'This file\'s values lose to any other file\'s instead of conflicting with them.',
    type: 'boolean',
  };
  s.patternProperties = { '^x-': { description: 'Dropped before the merge: a place for file-local YAML anchors.' } };

  const replace = { type: 'boolean', description: 'This entry replaces what the files it includes say at its address, instead of merging field by field.' };
  const p = s.properties;
  const pg = p.postgres;
  delete pg.required;
  delete pg.if;
  delete pg.then;

  const mount = p.mounts.items;
  mount.required = ['path'];
  mount.properties.replace = replace;
  mount.properties.source = { oneOf: [mount.properties.source, { $ref: '#/definitions/fleetPathRef' }], description: mount.properties.source.description };
  delete mount.properties.credentials.required;

  p.units.items.properties.replace = replace;

  const exp = s.definitions.export;
  exp.properties.replace = replace;
  const client = exp.properties.clients.items.properties;
  client.host = { oneOf: [client.host, { $ref: '#/definitions/fleetRef' }], description: client.host.description };

  const migration = p.migrations.items;
  migration.required = ['name'];
  migration.properties.replace = replace;

  pg.properties.users.items.properties.replace = replace;
  const hba = pg.properties.hba.items;
  hba.required = ['type', 'database', 'user'];
  hba.properties.replace = replace;
  hba.properties.order = { type: 'integer', description: 'Position among the rules: lower first (default 1000); equal orders keep the host\'s rules first, then the fragments\' in include order.' };
  hba.properties.address = { oneOf: [hba.properties.address, { $ref: '#/definitions/fleetRef' }] };
  const primary = pg.properties.primary;
  delete primary.required;
  primary.properties.host = { oneOf: [primary.properties.host, { $ref: '#/definitions/fleetHostRef' }] };

  s.definitions.fleetRef = {
    description: 'A fleet host {fleet: HOST}, or every host of a group {fleet: group:NAME}: their canonical addresses, sorted.',
    type: 'object',
    additionalProperties: false,
    required: ['fleet'],
    properties: { fleet: { type: 'string', pattern: '^(group:[A-Za-z0-9][A-Za-z0-9_.-]*|[A-Za-z0-9][A-Za-z0-9.-]{0,252})$' } },
  };
  s.definitions.fleetHostRef = {
    description: 'A fleet host: its canonical address.',
    type: 'object',
    additionalProperties: false,
    required: ['fleet'],
    properties: { fleet: { type: 'string', pattern: HOST_NAME } },
  };
  s.definitions.fleetPathRef = {
    description: 'An NFS source on a fleet host: HOST\'s canonical address and PATH.',
    type: 'object',
    additionalProperties: false,
    required: ['fleet', 'path'],
    properties: { fleet: { type: 'string', pattern: HOST_NAME }, path: { $ref: '#/definitions/absolutePath' } },
  };
  return s;
}
