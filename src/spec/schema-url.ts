/** Where the spec's JSON Schema lives (the file editors point at); apart, so reading it loads no validator. */
export const SCHEMA_URL = new URL('../../schemas/host-spec.schema.json', import.meta.url);
