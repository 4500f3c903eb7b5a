/**
 * Ids of the exports kind's shared steps, for other kinds to order against (a leaf module: other
 * kinds may import it, it imports nothing).
 */
export const EXPORTS_FILE = '/etc/exports';
/** The one write of /etc/exports. */
export const EXPORTS_WRITE_ID = `file:${EXPORTS_FILE}`;
/** The one `exportfs -ra` after it. */
export const EXPORTFS_ID = 'exec:exportfs -ra';
