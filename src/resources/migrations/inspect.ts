import type { Client } from './db.js';

export interface ColumnInfo {
  name: string;
  /** format_type(): `character varying(100)`, `numeric(10,2)`, `integer[]`. */
  type: string;
  /** character_maximum_length */
  length: number | null;
  /** numeric(p,s) only. */
  precision: number | null;
  scale: number | null;
  primaryKey: boolean;
  /**
   * MySQL's COLUMN_KEY in words: primary (part of the primary key), unique (the one column of a
   * unique index), index (the first column of another index); PostgreSQL's from pg_index alike.
   */
  key: 'primary' | 'unique' | 'index' | null;
  nullable: boolean;
  default: string | null;
  /** MySQL auto_increment; PostgreSQL: an identity column or a serial (nextval) default. */
  autoIncrement: boolean;
  comment: string | null;
}

export interface TableInfo {
  schema: string;
  name: string;
  comment: string | null;
  /** In the table's column order. */
  columns: ColumnInfo[];
}

/**
 * Tables and columns of every user schema: the standard view (information_schema.columns) for
 * lengths, scales, nullability and defaults, pg_catalog for the exact type, primary keys and
 * comments, the key and auto-increment as MySQL reports them (see ColumnInfo). Precision and scale are reported for numeric only: for integer and float types the
 * standard view's binary precision says nothing the type name does not. Ordinal numbers are not
 * reported: a column dropped and added again is the same schema.
 */
export async function inspectSchema(client: Client): Promise<TableInfo[]> {
  const r = await client.query<{
    table_schema: string;
    table_name: string;
    table_comment: string | null;
    column_name: string;
    type: string;
    length: number | null;
    precision: number | null;
    scale: number | null;
    pk: boolean;
    uni: boolean;
    idx: boolean;
    auto: boolean;
    nullable: boolean;
    column_default: string | null;
    column_comment: string | null;
  }>(`
    SELECT c.table_schema, c.table_name,
           obj_description(cls.oid, 'pg_class') AS table_comment,
           c.column_name,
           format_type(a.atttypid, a.atttypmod) AS type,
           c.character_maximum_length AS length,
           CASE WHEN c.data_type = 'numeric' THEN c.numeric_precision END AS precision,
           CASE WHEN c.data_type = 'numeric' THEN c.numeric_scale END AS scale,
           EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = cls.oid AND i.indisprimary AND a.attnum = ANY (i.indkey)) AS pk,
           EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = cls.oid AND i.indisunique AND i.indnkeyatts = 1 AND i.indkey[0] = a.attnum) AS uni,
           EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = cls.oid AND i.indkey[0] = a.attnum) AS idx,
           (a.attidentity <> '' OR coalesce(c.column_default, '') LIKE 'nextval(%') AS auto,
           c.is_nullable = 'YES' AS nullable,
           c.column_default,
           col_description(cls.oid, a.attnum) AS column_comment
      FROM information_schema.columns c
      JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
      JOIN pg_catalog.pg_namespace ns ON ns.nspname = c.table_schema
      JOIN pg_catalog.pg_class cls ON cls.relnamespace = ns.oid AND cls.relname = c.table_name
      JOIN pg_catalog.pg_attribute a ON a.attrelid = cls.oid AND a.attname = c.column_name AND NOT a.attisdropped
     WHERE c.table_schema NOT IN ('pg_catalog', 'information_schema') AND c.table_schema NOT LIKE 'pg\\_toast%'
     ORDER BY c.table_schema, c.table_name, c.ordinal_position`);
  const tables: TableInfo[] = [];
  for (const row of r.rows) {
    let t = tables.at(-1);
    if (!t || t.schema !== row.table_schema || t.name !== row.table_name) {
      t = { schema: row.table_schema, name: row.table_name, comment: row.table_comment, columns: [] };
      tables.push(t);
    }
    t.columns.push({
      name: row.column_name,
      type: row.type,
      length: row.length,
      precision: row.precision,
      scale: row.scale,
      primaryKey: row.pk,
      key: row.pk ? 'primary' : row.uni ? 'unique' : row.idx ? 'index' : null,
      nullable: row.nullable,
      default: row.column_default,
      autoIncrement: row.auto,
      comment: row.column_comment,
    });
  }
  return tables;
}
